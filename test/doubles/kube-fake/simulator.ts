/**
 * A small kube-controller-manager (plus cert-manager and an ingress controller) that writes what the real
 * controllers would, through the same request path as clients (validated, field manager `kube-controller-manager`,
 * resourceVersion preconditions; a write that loses a race is simply retried on the next step).
 *
 * Per `step()`:
 * - Deployment: a ReplicaSet `<name>-<pod-template-hash>` per pod template (owned by the Deployment, revision
 *   annotations), old ReplicaSets scaled down once the new one is available, Pods per ReplicaSet (owned by it,
 *   template labels), ReplicaSet and Deployment status with the real fields and conditions (Available:
 *   MinimumReplicasAvailable/MinimumReplicasUnavailable; Progressing: NewReplicaSetCreated, ReplicaSetUpdated,
 *   NewReplicaSetAvailable). Counts that are zero are omitted, as Kubernetes does. Pods become ready at once:
 *   slow, failing and rolled-back rollouts are tested on the real cluster (scripts/cluster, KWOK stages).
 * - HorizontalPodAutoscaler: current/desired replicas = the target Deployment's replicas clamped to [min, max]
 *   (the Deployment itself is not rescaled).
 * - cert-manager (./cert-manager.ts): Issuers Ready; Certificate → CertificateRequest → ACME Order → Challenges as
 *   cert-manager creates them, then the TLS Secret and Ready; each issuance can be scripted (`scriptIssuance`,
 *   `pendCertificate`, `failCertificate`, ...).
 * - Ingress: `status.loadBalancer.ingress[0].ip = ingressAddress`.
 *
 * Like the real controllers it works from events, not from full scans: a step syncs only the objects whose own
 * events (or their children's) arrived since the last step, plus Deployments whose rollout has not settled. So a
 * step over 1,000 settled services costs nothing.
 */
import { CertManagerSimulation, type IssuanceScript } from './cert-manager';
import { JobSimulation } from './jobs';
import type { Operations, Target } from './operations';
import type { ResourceRegistry } from './resources';
import type { FakeStore, StoredEvent } from './store';
import {
  ApiError,
  asArray,
  asNumber,
  asRecord,
  asString,
  clone,
  formatTime,
  isRecord,
  type JsonObject,
  type KubeObject,
  type OwnerReference,
} from './types';
import { desiredReplicaCounts, podFor, podStatus, templateHash } from './workloads';

export type { IssuanceScript } from './cert-manager';
export type { JobMatch, JobResult, JobScript } from './jobs';

export const CONTROLLER_MANAGER = 'kube-controller-manager';

interface Condition extends JsonObject {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Sets a condition like the Kubernetes helpers: unchanged when status and reason match, else replaced at the end. */
function setCondition(conditions: JsonObject[], next: Condition, time: string, withUpdateTime: boolean): JsonObject[] {
  const current = conditions.find((c) => c.type === next.type);
  if (current && current.status === next.status && current.reason === next.reason) return conditions;
  const lastTransitionTime = current && current.status === next.status ? current.lastTransitionTime : time;
  const entry: JsonObject = {
    type: next.type,
    status: next.status,
    ...(withUpdateTime ? { lastUpdateTime: time } : {}),
    lastTransitionTime,
    reason: next.reason,
    message: next.message,
  };
  return [...conditions.filter((c) => c.type !== next.type), entry];
}

export class ClusterSimulator {
  /** Address written to Ingress status (empty string: leave Ingress status alone). */
  ingressAddress = '192.0.2.10';
  /** The last error a background step hit (steps started by `start()` do not throw). */
  lastError: unknown;

  private readonly certManager: CertManagerSimulation;
  /** The Job controller, and the kubelet running Job pods as scripted (`jobs.script(name, { logs, result, delayMs })`). */
  readonly jobs: JobSimulation;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  /** Work queues (namespace/name keys), filled from store events. */
  private readonly dirty = {
    deployments: new Set<string>(),
    replicaSets: new Set<string>(),
    hpas: new Set<string>(),
    ingresses: new Set<string>(),
    certManager: false,
  };
  /** Deployments whose rollout is still moving or waiting for its deadline: synced every step. */
  private readonly unsettled = new Set<string>();
  /** The next step syncs everything (first step; failure injection changed; clock moved). */
  private everything = true;

  constructor(
    private readonly store: FakeStore,
    private readonly ops: Operations,
    private readonly registry: ResourceRegistry,
    private readonly clock: { now(): Date; advance(ms: number): void },
  ) {
    store.observe((e) => this.enqueue(e));
    this.certManager = new CertManagerSimulation(
      store,
      {
        now: () => this.now(),
        create: (o) => this.create(o),
        update: (o) => this.update(o),
        writeStatus: (o, status) => this.writeStatus(o, status),
        remove: async (o) => void (await this.ops.delete(this.target(o), { propagationPolicy: 'Background' })),
      },
      (group, kind) => this.registry.byGroupKind(group, kind) !== undefined,
    );
    this.jobs = new JobSimulation(store, {
      now: () => this.now(),
      create: (o) => this.create(o),
      update: (o) => this.update(o),
      writeStatus: (o, status) => this.writeStatus(o, status),
      remove: async (o, propagationPolicy = 'Background') => void (await this.ops.delete(this.target(o), { propagationPolicy })),
    });
  }

  private enqueue(e: StoredEvent): void {
    const key = (name: string | undefined) => `${e.namespace}/${name ?? ''}`;
    const owner = (o: KubeObject, kind: string) => o.metadata.ownerReferences?.find((r) => r.kind === kind && r.controller)?.name;
    switch (`${e.group}/${e.kind}`) {
      case 'apps/Deployment':
        this.dirty.deployments.add(key(e.object.metadata.name));
        for (const hpa of this.store.items('autoscaling', 'HorizontalPodAutoscaler', e.namespace)) {
          if (asString(asRecord(asRecord(hpa.spec).scaleTargetRef).name) === e.object.metadata.name)
            this.dirty.hpas.add(key(hpa.metadata.name));
        }
        break;
      case 'apps/ReplicaSet': {
        const deployment = owner(e.object, 'Deployment');
        if (deployment) this.dirty.deployments.add(key(deployment));
        else this.dirty.replicaSets.add(key(e.object.metadata.name));
        break;
      }
      case '/Pod': {
        const rsName = owner(e.object, 'ReplicaSet');
        const rs = rsName ? this.store.find('apps', 'ReplicaSet', e.namespace, rsName) : undefined;
        const deployment = rs ? owner(rs, 'Deployment') : undefined;
        if (deployment) this.dirty.deployments.add(key(deployment));
        else if (rsName) this.dirty.replicaSets.add(key(rsName));
        break;
      }
      case 'autoscaling/HorizontalPodAutoscaler':
        this.dirty.hpas.add(key(e.object.metadata.name));
        break;
      case 'networking.k8s.io/Ingress':
        this.dirty.ingresses.add(key(e.object.metadata.name));
        break;
      case 'cert-manager.io/Certificate':
      case 'cert-manager.io/CertificateRequest':
      case 'cert-manager.io/Issuer':
      case 'cert-manager.io/ClusterIssuer':
      case 'acme.cert-manager.io/Order':
      case 'acme.cert-manager.io/Challenge':
      case '/Secret':
        this.dirty.certManager = true;
        break;
    }
  }

  /**
   * How the next issuance of a Certificate ends (namespace omitted: that name in any namespace): challenges valid
   * (default), pending, invalid with a reason, the ACME order errored, or the request denied by an approver.
   */
  scriptIssuance(name: string, namespace: string | undefined, script: IssuanceScript): void {
    this.certManager.script(name, namespace, script);
    this.dirty.certManager = true;
  }

  /** The Certificate's challenges stay pending (the ACME server does not see the validation record) until `releaseCertificate`. */
  pendCertificate(name: string, namespace?: string): void {
    this.scriptIssuance(name, namespace, { outcome: 'pending' });
  }

  /** Pending challenges validate. */
  releaseCertificate(name: string, namespace?: string): void {
    this.scriptIssuance(name, namespace, { outcome: 'valid' });
  }

  /** The ACME server rejects the Certificate's challenges (with `reason`, else a realistic ACME error). */
  failCertificate(name: string, namespace?: string, reason?: string): void {
    this.scriptIssuance(name, namespace, { outcome: 'invalid', ...(reason ? { reason } : {}) });
  }

  /** Undoes any script; a failed issuance is tried again (cert-manager retries after a back-off). */
  healCertificate(name: string, namespace?: string): void {
    this.certManager.heal(name, namespace);
    this.dirty.certManager = true;
  }

  /** The simulator clock (also the fake API server's clock). */
  now(): Date {
    return this.clock.now();
  }

  /** Moves the clock forward, e.g. past a Deployment's progressDeadlineSeconds. */
  advance(ms: number): void {
    this.clock.advance(ms);
    this.everything = true;
  }

  /** Runs every controller once; resolves to the number of writes it made. Steps never overlap. */
  async step(): Promise<number> {
    while (this.running) await this.running;
    this.running = this.runStep();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  /** Steps until a step writes nothing (or `maxSteps`); resolves to the number of steps that wrote. */
  async settle(maxSteps = 50): Promise<number> {
    for (let i = 0; i < maxSteps; i++) if ((await this.step()) === 0) return i;
    return maxSteps;
  }

  /** Steps every `intervalMs` in the background (unref'd timer) until `stop()`. */
  start(intervalMs = 50): void {
    this.stop();
    this.timer = setInterval(() => {
      if (!this.running) this.step().catch((e: unknown) => (this.lastError = e));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async runStep(): Promise<number> {
    const before = Number(this.store.resourceVersion());
    const everything = this.everything;
    this.everything = false;
    const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const take = (set: Set<string>, all: () => KubeObject[]): string[] => {
      const keys = everything ? all().map(keyOf) : [...set];
      set.clear();
      return keys;
    };
    const split = (k: string): [string, string] => {
      const i = k.indexOf('/');
      return [k.slice(0, i), k.slice(i + 1)];
    };

    const deployments = new Set([...take(this.dirty.deployments, () => this.store.items('apps', 'Deployment')), ...this.unsettled]);
    for (const k of deployments) {
      const [namespace, name] = split(k);
      await this.guard(() => this.syncDeployment(namespace, name), []);
      const d = this.store.find('apps', 'Deployment', namespace, name);
      const progressing = asArray(asRecord(d?.status).conditions)
        .filter(isRecord)
        .find((c) => c.type === 'Progressing');
      const settled = !d || d.metadata.deletionTimestamp || progressing?.reason === 'NewReplicaSetAvailable';
      if (settled) this.unsettled.delete(k);
      else this.unsettled.add(k);
    }
    for (const k of take(this.dirty.replicaSets, () => this.store.items('apps', 'ReplicaSet'))) {
      const [namespace, name] = split(k);
      const rs = this.store.find('apps', 'ReplicaSet', namespace, name);
      if (rs && !rs.metadata.ownerReferences?.some((r) => r.kind === 'Deployment' && r.controller))
        await this.guard(() => this.syncReplicaSet(rs), undefined);
    }
    for (const k of take(this.dirty.hpas, () => this.store.items('autoscaling', 'HorizontalPodAutoscaler'))) {
      const [namespace, name] = split(k);
      const hpa = this.store.find('autoscaling', 'HorizontalPodAutoscaler', namespace, name);
      if (hpa) await this.guard(() => this.syncHpa(clone(hpa)), undefined);
    }
    if (everything || this.dirty.certManager) {
      this.dirty.certManager = false;
      await this.certManager.sync((fn) => this.guard(fn, undefined));
    }
    await this.jobs.sync((fn) => this.guard(fn, undefined));
    for (const k of take(this.dirty.ingresses, () => this.store.items('networking.k8s.io', 'Ingress'))) {
      const [namespace, name] = split(k);
      const ing = this.store.find('networking.k8s.io', 'Ingress', namespace, name);
      if (ing && this.ingressAddress) await this.guard(() => this.syncIngress(ing), undefined);
    }
    return Number(this.store.resourceVersion()) - before;
  }

  /** Runs one controller action; lost races (409) and vanished objects (404) are retried next step. */
  private async guard<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 409 || e.code === 404 || e.code === 403))) this.lastError = e;
      return fallback;
    }
  }

  // ---- writes through the API semantics --------------------------------------------------------------------

  private target(obj: KubeObject, subresource?: 'status'): Target {
    const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
    const rt = this.registry.byKind(obj.apiVersion, obj.kind) ?? this.registry.byGroupKind(group, obj.kind);
    if (!rt) throw new Error(`kube-fake simulator: ${obj.kind} is not served`);
    return {
      rt,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      subresource,
      fieldManager: CONTROLLER_MANAGER,
      fieldManagerGiven: true,
    };
  }

  private async create(obj: KubeObject): Promise<KubeObject> {
    return (await this.ops.create({ ...this.target(obj), name: undefined }, obj)).object;
  }

  /** PUT of the whole object (precondition: the resourceVersion it was read at). */
  private async update(obj: KubeObject): Promise<KubeObject> {
    return (await this.ops.update(this.target(obj), obj)).object;
  }

  /** PUT of `/status`, skipped when the status is already what we would write. */
  private async writeStatus(obj: KubeObject, status: JsonObject): Promise<void> {
    if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return;
    await this.ops.update(this.target(obj, 'status'), { ...clone(obj), status });
  }

  private fresh(obj: KubeObject): KubeObject | undefined {
    const found = this.store.find(
      obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '',
      obj.kind,
      obj.metadata.namespace,
      obj.metadata.name ?? '',
    );
    return found && clone(found);
  }

  // ---- Deployments and ReplicaSets --------------------------------------------------------------------------

  private ownedBy(owner: KubeObject, group: string, kind: string): KubeObject[] {
    return this.store
      .items(group, kind, owner.metadata.namespace)
      .filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid && r.controller));
  }

  private ownerRef(owner: KubeObject): OwnerReference {
    return {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name ?? '',
      uid: owner.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  /** Reconciles one Deployment; returns the uids of the ReplicaSets it controls. */
  private async syncDeployment(namespace: string, name: string): Promise<string[]> {
    let d = clone(this.store.find('apps', 'Deployment', namespace, name));
    if (!d || d.metadata.deletionTimestamp) return [];
    const spec = asRecord(d.spec);
    const replicas = asNumber(spec.replicas) ?? 1;
    const template = asRecord(spec.template);
    const hash = templateHash(template);
    let all = this.ownedBy(d, 'apps', 'ReplicaSet').map((rs) => clone(rs));
    let newRs = all.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const revision = (rs: KubeObject): number => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    let createdNew = false;
    if (!newRs) {
      const rev = Math.max(0, ...all.map(revision)) + 1;
      const labels = { ...asRecord(asRecord(template.metadata).labels), 'pod-template-hash': hash } as Record<string, string>;
      const selector = asRecord(spec.selector);
      newRs = await this.create({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-${hash}`,
          namespace,
          labels,
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(replicas),
            'deployment.kubernetes.io/max-replicas': String(replicas + 1),
            'deployment.kubernetes.io/revision': String(rev),
          },
          ownerReferences: [this.ownerRef(d)],
        },
        spec: {
          replicas,
          ...(spec.minReadySeconds !== undefined ? { minReadySeconds: spec.minReadySeconds } : {}),
          selector: { ...selector, matchLabels: { ...asRecord(selector.matchLabels), 'pod-template-hash': hash } },
          template: { ...clone(template), metadata: { ...asRecord(template.metadata), labels } },
        },
      });
      createdNew = true;
      all = [...all, newRs];
    } else if (asNumber(asRecord(newRs.spec).replicas) !== replicas) {
      newRs = await this.update({ ...newRs, spec: { ...asRecord(newRs.spec), replicas } });
    }
    newRs = (await this.syncReplicaSet(newRs)) ?? newRs;
    const newAvailable = asNumber(asRecord(newRs.status).availableReplicas) ?? 0;
    let oldBudget = newAvailable >= replicas ? 0 : Math.max(0, replicas - newAvailable);
    const olds = all.filter((rs) => rs.metadata.uid !== newRs?.metadata.uid).sort((a, b) => revision(b) - revision(a));
    const syncedOld: KubeObject[] = [];
    for (const old of olds) {
      let rs = old;
      const want = Math.min(asNumber(asRecord(rs.spec).replicas) ?? 0, oldBudget);
      oldBudget -= want;
      if (asNumber(asRecord(rs.spec).replicas) !== want) rs = await this.update({ ...rs, spec: { ...asRecord(rs.spec), replicas: want } });
      syncedOld.push((await this.syncReplicaSet(rs)) ?? rs);
    }
    const rev = newRs.metadata.annotations?.['deployment.kubernetes.io/revision'];
    if (rev && d.metadata.annotations?.['deployment.kubernetes.io/revision'] !== rev) {
      d = await this.update({
        ...d,
        metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, 'deployment.kubernetes.io/revision': rev } },
      });
    }
    await this.writeStatus(d, this.deploymentStatus(d, newRs, [newRs, ...syncedOld], createdNew));
    return [newRs, ...syncedOld].map((rs) => rs.metadata.uid ?? '');
  }

  /** Mirrors deployment controller's calculateStatus + syncRolloutStatus. */
  private deploymentStatus(d: KubeObject, newRs: KubeObject, all: KubeObject[], createdNew: boolean): JsonObject {
    const spec = asRecord(d.spec);
    const replicas = asNumber(spec.replicas) ?? 1;
    const sum = (rss: KubeObject[], f: (rs: KubeObject) => unknown): number => rss.reduce((n, rs) => n + (asNumber(f(rs)) ?? 0), 0);
    const counts = {
      replicas: sum(all, (rs) => asRecord(rs.status).replicas),
      updatedReplicas: sum([newRs], (rs) => asRecord(rs.status).replicas),
      readyReplicas: sum(all, (rs) => asRecord(rs.status).readyReplicas),
      availableReplicas: sum(all, (rs) => asRecord(rs.status).availableReplicas),
      unavailableReplicas: Math.max(
        0,
        sum(all, (rs) => asRecord(rs.spec).replicas) - sum(all, (rs) => asRecord(rs.status).availableReplicas),
      ),
    };
    const old = asRecord(d.status);
    const time = formatTime(this.now());
    const { maxUnavailable } = desiredReplicaCounts(spec, replicas);
    let conditions = asArray(old.conditions).filter(isRecord);
    conditions = setCondition(
      conditions,
      counts.availableReplicas >= replicas - maxUnavailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
      time,
      true,
    );
    const rsName = newRs.metadata.name ?? '';
    if (createdNew)
      conditions = setCondition(
        conditions,
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"` },
        time,
        true,
      );
    const generation = d.metadata.generation ?? 1;
    const complete = counts.updatedReplicas === replicas && counts.replicas === replicas && counts.availableReplicas === replicas;
    const oldCount = (asNumber(old.replicas) ?? 0) - (asNumber(old.updatedReplicas) ?? 0);
    const progressing =
      counts.updatedReplicas > (asNumber(old.updatedReplicas) ?? 0) ||
      counts.replicas - counts.updatedReplicas < oldCount ||
      counts.readyReplicas > (asNumber(old.readyReplicas) ?? 0) ||
      counts.availableReplicas > (asNumber(old.availableReplicas) ?? 0);
    const current = conditions.find((c) => c.type === 'Progressing');
    if (complete) {
      conditions = setCondition(
        conditions,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${rsName}" has successfully progressed.`,
        },
        time,
        true,
      );
    } else if (progressing) {
      const entry = {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: time,
        lastTransitionTime: current?.status === 'True' ? current.lastTransitionTime : time,
        reason: 'ReplicaSetUpdated',
        message: `ReplicaSet "${rsName}" is progressing.`,
      };
      conditions = [...conditions.filter((c) => c.type !== 'Progressing'), entry];
    }
    const status: JsonObject = { observedGeneration: generation };
    for (const [k, v] of Object.entries(counts)) if (v > 0) status[k] = v;
    status.conditions = conditions;
    if (old.collisionCount !== undefined) status.collisionCount = old.collisionCount;
    return status;
  }

  /** Pods and status of one ReplicaSet; returns its fresh state. */
  private async syncReplicaSet(rsIn: KubeObject): Promise<KubeObject | undefined> {
    const rs = this.fresh(rsIn);
    if (!rs || rs.metadata.deletionTimestamp) return undefined;
    const spec = asRecord(rs.spec);
    const desired = asNumber(spec.replicas) ?? 1;
    // every pod becomes ready at once: rollouts that fail or take their time run on the real cluster (KWOK stages)
    const available = desired;
    await this.syncPods(rs, desired);
    const status: JsonObject = { replicas: desired };
    if (desired > 0) status.fullyLabeledReplicas = desired;
    if (available > 0) {
      status.readyReplicas = available;
      status.availableReplicas = available;
    }
    status.observedGeneration = rs.metadata.generation ?? 1;
    await this.writeStatus(rs, status);
    return this.fresh(rs);
  }

  private async syncPods(rs: KubeObject, desired: number): Promise<void> {
    const existing = new Map(this.ownedBy(rs, '', 'Pod').map((p) => [p.metadata.name ?? '', p]));
    for (let i = 0; i < desired; i++) {
      const wanted = podFor(rs, i, this.ownerRef(rs));
      let pod = existing.get(wanted.metadata.name ?? '');
      existing.delete(wanted.metadata.name ?? '');
      if (!pod) pod = await this.create(wanted);
      await this.writeStatus(pod, podStatus(pod, 'ready'));
    }
    for (const extra of existing.values()) this.store.delete('v1', 'Pod', extra.metadata.namespace, extra.metadata.name ?? '');
  }

  // ---- HPA, Ingress ---------------------------------------------------------------------------

  private async syncHpa(hpa: KubeObject): Promise<void> {
    const spec = asRecord(hpa.spec);
    const ref = asRecord(spec.scaleTargetRef);
    const min = asNumber(spec.minReplicas) ?? 1;
    const max = asNumber(spec.maxReplicas) ?? min;
    const target =
      ref.kind === 'Deployment' ? this.store.find('apps', 'Deployment', hpa.metadata.namespace, asString(ref.name) ?? '') : undefined;
    const old = asRecord(hpa.status);
    const time = formatTime(this.now());
    let conditions = asArray(old.conditions).filter(isRecord);
    const status: JsonObject = { observedGeneration: hpa.metadata.generation ?? 1 };
    if (!target) {
      conditions = setCondition(
        conditions,
        {
          type: 'AbleToScale',
          status: 'False',
          reason: 'FailedGetScale',
          message: `the HPA controller was unable to get the target's current scale: deployments/scale.apps "${String(ref.name)}" not found`,
        },
        time,
        false,
      );
      status.currentReplicas = asNumber(old.currentReplicas) ?? 0;
      status.desiredReplicas = asNumber(old.desiredReplicas) ?? 0;
    } else {
      const replicas = asNumber(asRecord(target.spec).replicas) ?? 1;
      const desired = replicas === 0 ? 0 : Math.min(max, Math.max(min, replicas));
      status.currentReplicas = desired;
      status.desiredReplicas = desired;
      conditions = setCondition(
        conditions,
        { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
        time,
        false,
      );
      conditions =
        replicas === 0
          ? setCondition(
              conditions,
              {
                type: 'ScalingActive',
                status: 'False',
                reason: 'ScalingDisabled',
                message: 'scaling is disabled since the replica count of the target is zero',
              },
              time,
              false,
            )
          : setCondition(
              conditions,
              {
                type: 'ScalingActive',
                status: 'True',
                reason: 'ValidMetricFound',
                message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
              },
              time,
              false,
            );
      const limited = replicas !== 0 && (replicas < min || replicas > max);
      conditions = setCondition(
        conditions,
        limited
          ? {
              type: 'ScalingLimited',
              status: 'True',
              reason: replicas < min ? 'TooFewReplicas' : 'TooManyReplicas',
              message: `the desired replica count is ${replicas < min ? 'less than the minimum' : 'more than the maximum'} replica count`,
            }
          : {
              type: 'ScalingLimited',
              status: 'False',
              reason: 'DesiredWithinRange',
              message: 'the desired count is within the acceptable range',
            },
        time,
        false,
      );
    }
    status.conditions = conditions;
    await this.writeStatus(hpa, status);
  }

  private async syncIngress(ing: KubeObject): Promise<void> {
    const lb = asArray(asRecord(asRecord(ing.status).loadBalancer).ingress);
    if (lb.length > 0) return;
    await this.writeStatus(ing, { loadBalancer: { ingress: [{ ip: this.ingressAddress }] } });
  }
}
