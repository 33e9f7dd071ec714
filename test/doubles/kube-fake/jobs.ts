/**
 * Jobs as the simulator runs them: kube-controller-manager's job controller and TTL-after-finished controller,
 * plus a kubelet that runs each Job pod's containers as the test scripted them, and the containers' logs the API
 * server serves at `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
 *
 * Per Job (not suspended, not finished): one Pod at a time `<job>-<5 chars>`, owned by the Job, with the template's
 * labels plus `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`, `controller-uid`, `job-name`.
 * Its init containers run one after the other, then its containers together, each for `delayMs` of the simulator
 * clock, printing its scripted log line by line as it runs; statuses go waiting (PodInitializing) → running →
 * terminated (`Completed`, or `Error` with the exit code and a termination message). A failed pod is replaced
 * until `spec.backoffLimit` failures; then the Job is `Failed/BackoffLimitExceeded`. `spec.activeDeadlineSeconds`
 * past `status.startTime` deletes the active pod and fails the Job with `DeadlineExceeded`. Success:
 * `SuccessCriteriaMet` then `Complete` (reason `CompletionsReached`), `succeeded`, `completionTime`. A finished
 * Job is deleted `ttlSecondsAfterFinished` after it finished (Foreground, as the TTL controller does).
 *
 * Not simulated: `suspend` (a suspended Job simply gets no pods), parallelism/completions above 1, Indexed
 * completion, pod failure and success policies, pod finalizers and `uncountedTerminatedPods` accounting.
 */
import { createHash } from 'node:crypto';
import type { ControllerWrites } from './cert-manager';
import type { FakeStore, PropagationPolicy, StoredEvent } from './store';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  clone,
  errors,
  formatTime,
  isRecord,
  type JsonObject,
  type KubeObject,
  type OwnerReference,
} from './types';
import { fnv32a, safeEncode } from './workloads';

/** How a Job's pod ends: every container exits 0 (the last container's termination message is `digest` or `message`), or one fails. */
export type JobResult =
  | { digest?: string; message?: string }
  | {
      exitCode: number;
      /** The failing container (default: the last container); containers after a failed init container never start. */
      container?: string;
      /** Termination message (default: with `FallbackToLogsOnError`, the tail of the container's log, as the kubelet does). */
      message?: string;
      /** `state.terminated.reason` (default `Error`; e.g. `OOMKilled`). */
      reason?: string;
    };

export interface JobScript {
  /** Output per container name, revealed line by line while the container runs. */
  logs?: Record<string, string>;
  /** Default: success, with a digest derived from the Job's namespace and name. */
  result?: JobResult;
  /** How long each container runs, on the simulator clock (default 200 ms). */
  delayMs?: number;
}

/** A Job name (any namespace) or a predicate on the Job. */
export type JobMatch = string | ((job: KubeObject) => boolean);

/** Writes of the simulator; `remove` takes the propagation policy. */
export interface JobControllerWrites extends Omit<ControllerWrites, 'remove'> {
  remove(obj: KubeObject, propagationPolicy?: PropagationPolicy): Promise<void>;
}

type Guard = (fn: () => Promise<void>) => Promise<void>;

/** One line of a container's output, with the time the kubelet stamped it (ms on the simulator clock). */
export interface LogEntry {
  time: number;
  text: string;
}

interface ContainerRun {
  name: string;
  init: boolean;
  /** Infinity: never starts (an init container before it failed). */
  start: number;
  end: number;
  exitCode: number;
  reason?: string;
  message?: string;
  entries: LogEntry[];
}

interface PodRun {
  containers: ContainerRun[];
}

const DEFAULT_DELAY_MS = 200;
const CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
const JOB_NAME = 'batch.kubernetes.io/job-name';
/** What the kubelet keeps of a failed container's log as its termination message (FallbackToLogsOnError). */
const FALLBACK_LINES = 80;
const FALLBACK_BYTES = 2048;

/** The digest a Job's pod reports when its script does not name one: deterministic per namespace/name. */
export function defaultJobDigest(namespace: string, name: string): string {
  return `sha256:${createHash('sha256').update(`${namespace}/${name}`).digest('hex')}`;
}

/** RFC 3339 with the fraction trimmed of trailing zeros, as Go's RFC3339Nano prints the kubelet's log timestamps. */
export function formatLogTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

function splitLines(text: string): string[] {
  const lines = text.split(/(?<=\n)/);
  return lines.filter((l) => l !== '');
}

function condition(type: string, reason: string, message: string, time: string): JsonObject {
  return { type, status: 'True', lastProbeTime: time, lastTransitionTime: time, reason, message };
}

function isFinished(job: KubeObject): JsonObject | undefined {
  return asArray(asRecord(job.status).conditions)
    .filter(isRecord)
    .find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobSimulation {
  private readonly scripts: { match: JobMatch; script: JobScript }[] = [];
  /** Pod runs by pod uid, fixed when the pod is created. */
  private readonly runs = new Map<string, PodRun>();
  /** Precise start of each Job (by uid): `status.startTime` has whole seconds only. */
  private readonly started = new Map<string, number>();
  /** Failed pods already counted in `status.failed`, per Job uid (the active pod deleted at the deadline too). */
  private readonly countedFailures = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  /** Jobs whose progress depends on the clock (running, or finished with a TTL): synced every step. */
  private readonly unsettled = new Set<string>();
  private everything = true;

  constructor(
    private readonly store: FakeStore,
    private readonly api: JobControllerWrites,
  ) {
    store.observe((e) => this.enqueue(e));
  }

  /** Scripts the pods of matching Jobs created from now on; the latest matching script wins. */
  script(match: JobMatch, script: JobScript): void {
    this.scripts.push({ match, script });
  }

  /** Drops every script: pods succeed at once with the default digest. */
  clearScripts(): void {
    this.scripts.length = 0;
  }

  /** The log of one container of a Job pod, as far as it has been written at `now`; undefined for other pods. */
  logEntries(podUid: string, container: string, now: number): LogEntry[] | undefined {
    const run = this.runs.get(podUid);
    const c = run?.containers.find((x) => x.name === container);
    if (!c) return undefined;
    return c.entries.filter((e) => e.time <= now && e.time <= c.end);
  }

  private enqueue(e: StoredEvent): void {
    if (e.group === 'batch' && e.kind === 'Job') {
      this.dirty.add(`${e.namespace}/${e.object.metadata.name ?? ''}`);
      if (e.type === 'DELETED' && e.object.metadata.uid) {
        this.started.delete(e.object.metadata.uid);
        this.countedFailures.delete(e.object.metadata.uid);
      }
    } else if (e.group === '' && e.kind === 'Pod') {
      const owner = e.object.metadata.ownerReferences?.find((r) => r.kind === 'Job' && r.controller);
      if (owner) this.dirty.add(`${e.namespace}/${owner.name}`);
      if (e.type === 'DELETED' && e.object.metadata.uid) this.runs.delete(e.object.metadata.uid);
    }
  }

  /** One pass of the Job and TTL controllers (and the kubelet for Job pods). */
  async sync(guard: Guard): Promise<void> {
    const keys = this.everything
      ? this.store.items('batch', 'Job').map((j) => `${j.metadata.namespace}/${j.metadata.name}`)
      : [...this.dirty, ...this.unsettled];
    this.everything = false;
    this.dirty.clear();
    for (const key of new Set(keys)) {
      const slash = key.indexOf('/');
      const namespace = key.slice(0, slash);
      const name = key.slice(slash + 1);
      // Unsettled until a pass completes: a write that lost a race (409) is retried next step.
      this.unsettled.add(key);
      await guard(async () => {
        if (await this.syncJob(namespace, name)) this.unsettled.delete(key);
      });
    }
  }

  /** Reconciles one Job; true when nothing about it changes with time any more. */
  private async syncJob(namespace: string, name: string): Promise<boolean> {
    const found = this.store.find('batch', 'Job', namespace, name);
    if (!found || found.metadata.deletionTimestamp) return true;
    const job = clone(found);
    const now = this.api.now().getTime();
    const spec = asRecord(job.spec);
    const finished = isFinished(job);
    if (finished) return this.expire(job, finished, now);
    if (spec.suspend === true) return true;

    const uid = job.metadata.uid ?? '';
    const old = asRecord(job.status);
    const start = this.started.get(uid) ?? (typeof old.startTime === 'string' ? Date.parse(old.startTime) : now);
    this.started.set(uid, start);
    let pods = this.pods(job);
    for (const pod of pods) await this.syncPod(pod, now);
    pods = this.pods(job);

    const counted = this.countedFailures.get(uid) ?? new Set<string>();
    this.countedFailures.set(uid, counted);
    const phase = (p: KubeObject): string => asString(asRecord(p.status).phase) ?? 'Pending';
    for (const p of pods) if (phase(p) === 'Failed') counted.add(p.metadata.uid ?? '');
    const succeeded = pods.filter((p) => phase(p) === 'Succeeded').length;
    let active = pods.filter((p) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed' && !p.metadata.deletionTimestamp);
    const backoffLimit = asNumber(spec.backoffLimit) ?? 6;
    const deadline = asNumber(spec.activeDeadlineSeconds);
    const time = formatTime(new Date(now));
    const base: JsonObject = { startTime: formatTime(new Date(start)) };
    let conditions = asArray(old.conditions).filter(isRecord);
    let completionTime: string | undefined;

    if (succeeded > 0) {
      conditions = [
        ...conditions,
        condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', time),
        condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', time),
      ];
      completionTime = time;
      for (const p of active) await this.api.remove(p);
      active = [];
    } else if (deadline !== undefined && now - start >= deadline * 1000) {
      for (const p of active) {
        counted.add(p.metadata.uid ?? '');
        await this.api.remove(p);
      }
      active = [];
      conditions = [
        ...conditions,
        condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', time),
        condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline', time),
      ];
    } else if (counted.size > backoffLimit) {
      conditions = [
        ...conditions,
        condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', time),
        condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', time),
      ];
    } else if (active.length === 0) {
      active = [await this.api.create(this.podFor(job, counted.size))];
      await this.syncPod(active[0], now);
    }

    const ready = active.filter((p) =>
      asArray(asRecord(this.store.find('', 'Pod', namespace, p.metadata.name ?? '')?.status).conditions).some(
        (c) => isRecord(c) && c.type === 'Ready' && c.status === 'True',
      ),
    ).length;
    const status: JsonObject = { ...(conditions.length > 0 ? { conditions } : {}), ...base };
    if (completionTime) status.completionTime = completionTime;
    if (active.length > 0) status.active = active.length;
    if (succeeded > 0) status.succeeded = succeeded;
    if (counted.size > 0) status.failed = counted.size;
    status.terminating = 0;
    status.ready = ready;
    status.uncountedTerminatedPods = {};
    const fresh = this.store.find('batch', 'Job', namespace, name);
    if (fresh) await this.api.writeStatus(clone(fresh), status);
    const done = fresh ? isFinished({ ...fresh, status }) : undefined;
    return done ? asNumber(spec.ttlSecondsAfterFinished) === undefined : false;
  }

  /** The TTL-after-finished controller; true when nothing is left to wait for. */
  private async expire(job: KubeObject, finished: JsonObject, now: number): Promise<boolean> {
    const ttl = asNumber(asRecord(job.spec).ttlSecondsAfterFinished);
    if (ttl === undefined) return true;
    const at = Date.parse(asString(asRecord(job.status).completionTime) ?? asString(finished.lastTransitionTime) ?? '');
    if (Number.isNaN(at) || now < at + ttl * 1000) return false;
    await this.api.remove(job, 'Foreground');
    return true;
  }

  private pods(job: KubeObject): KubeObject[] {
    return this.store
      .items('', 'Pod', job.metadata.namespace)
      .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === job.metadata.uid && r.controller))
      .map((p) => clone(p));
  }

  private ownerRef(job: KubeObject): OwnerReference {
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: job.metadata.name ?? '',
      uid: job.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  private podFor(job: KubeObject, attempt: number): KubeObject {
    const name = job.metadata.name ?? '';
    const uid = job.metadata.uid ?? '';
    const template = asRecord(asRecord(job.spec).template);
    const meta = asRecord(template.metadata);
    const suffix = safeEncode(String(fnv32a(`${uid}/${attempt}`)))
      .padEnd(5, 'b')
      .slice(-5);
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name.slice(0, 57)}-${suffix}`,
        namespace: job.metadata.namespace,
        labels: {
          ...(asRecord(meta.labels) as Record<string, string>),
          [CONTROLLER_UID]: uid,
          [JOB_NAME]: name,
          'controller-uid': uid,
          'job-name': name,
        },
        ...(isRecord(meta.annotations) ? { annotations: { ...(meta.annotations as Record<string, string>) } } : {}),
        ownerReferences: [this.ownerRef(job)],
      },
      spec: { ...clone(asRecord(template.spec)), nodeName: 'kube-fake-node' },
    };
  }

  private scriptFor(job: KubeObject): JobScript {
    for (let i = this.scripts.length - 1; i >= 0; i--) {
      const { match, script } = this.scripts[i];
      if (typeof match === 'string' ? match === job.metadata.name : match(job)) return script;
    }
    return {};
  }

  /** The pod's timeline, fixed at its first sync: init containers one after the other, then the containers together. */
  private runOf(pod: KubeObject, start: number): PodRun {
    const uid = pod.metadata.uid ?? '';
    const existing = this.runs.get(uid);
    if (existing) return existing;
    const ownerName = pod.metadata.ownerReferences?.find((r) => r.kind === 'Job')?.name ?? '';
    const job = this.store.find('batch', 'Job', pod.metadata.namespace, ownerName);
    const script = job ? this.scriptFor(job) : {};
    const delay = Math.max(0, script.delayMs ?? DEFAULT_DELAY_MS);
    const spec = asRecord(pod.spec);
    const inits = asArray(spec.initContainers).filter(isRecord);
    const mains = asArray(spec.containers).filter(isRecord);
    const result = script.result ?? {};
    const failing = 'exitCode' in result ? (result.container ?? asString(mains.at(-1)?.name)) : undefined;
    const containers: ContainerRun[] = [];
    let at = start;
    let blocked = false;
    const add = (c: JsonObject, init: boolean, begin: number): ContainerRun => {
      const name = asString(c.name) ?? '';
      const lines = splitLines(script.logs?.[name] ?? '');
      const end = begin + delay;
      const entries = Number.isFinite(begin)
        ? lines.map((text, i) => ({ time: begin + Math.floor(((i + 1) * delay) / (lines.length + 1)), text }))
        : [];
      const run: ContainerRun = { name, init, start: begin, end, exitCode: 0, entries };
      if (name === failing && 'exitCode' in result) {
        run.exitCode = result.exitCode;
        run.reason = result.reason ?? 'Error';
        const fallback = c.terminationMessagePolicy === 'FallbackToLogsOnError' ? this.logTail(lines) : undefined;
        const message = result.message ?? fallback;
        if (message) run.message = message;
      }
      containers.push(run);
      return run;
    };
    for (const c of inits) {
      const run = add(c, true, blocked ? Infinity : at);
      if (!blocked) at = run.end;
      if (run.exitCode !== 0) blocked = true;
    }
    for (const c of mains) add(c, false, blocked ? Infinity : at);
    const last = containers.filter((c) => !c.init).at(-1);
    if (last && !('exitCode' in result)) {
      last.message = result.message ?? result.digest ?? defaultJobDigest(pod.metadata.namespace ?? '', ownerName);
    }
    const run = { containers };
    this.runs.set(uid, run);
    return run;
  }

  private logTail(lines: string[]): string {
    let text = lines.slice(-FALLBACK_LINES).join('');
    while (Buffer.byteLength(text) > FALLBACK_BYTES) text = text.slice(1);
    return text;
  }

  /** The kubelet: container statuses and the pod phase at `now`. */
  private async syncPod(pod: KubeObject, now: number): Promise<void> {
    const fresh = this.store.find('', 'Pod', pod.metadata.namespace, pod.metadata.name ?? '');
    if (!fresh || fresh.metadata.deletionTimestamp) return;
    const created = Date.parse(fresh.metadata.creationTimestamp ?? '') || now;
    const known = this.runs.get(fresh.metadata.uid ?? '');
    const run = known ?? this.runOf(fresh, Math.max(now, created));
    await this.api.writeStatus(clone(fresh), this.podStatus(fresh, run, now));
  }

  private podStatus(pod: KubeObject, run: PodRun, now: number): JsonObject {
    const spec = asRecord(pod.spec);
    const images = new Map(
      [...asArray(spec.initContainers), ...asArray(spec.containers)]
        .filter(isRecord)
        .map((c) => [asString(c.name) ?? '', asString(c.image) ?? '']),
    );
    const podName = pod.metadata.name ?? '';
    const status = (c: ContainerRun): JsonObject => {
      const image = images.get(c.name) ?? '';
      const ids = {
        image,
        imageID: `${image.includes('/') ? '' : 'docker.io/library/'}${image.split('@')[0]}@sha256:${fnv32a(image).toString(16).padStart(8, '0').repeat(8)}`,
      };
      const containerID = `containerd://${fnv32a(`${podName}/${c.name}`).toString(16).padStart(8, '0').repeat(8)}`;
      const startedAt = formatTime(new Date(c.start === Infinity ? now : c.start));
      if (now < c.start)
        return { name: c.name, ...ids, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'PodInitializing' } } };
      if (now < c.end)
        return { name: c.name, ...ids, containerID, ready: !c.init, restartCount: 0, started: true, state: { running: { startedAt } } };
      const terminated: JsonObject = {
        exitCode: c.exitCode,
        reason: c.reason ?? 'Completed',
        ...(c.message ? { message: c.message } : {}),
        startedAt,
        finishedAt: formatTime(new Date(c.end)),
        containerID,
      };
      return {
        name: c.name,
        ...ids,
        containerID,
        ready: c.init && c.exitCode === 0,
        restartCount: 0,
        started: false,
        state: { terminated },
      };
    };
    const inits = run.containers.filter((c) => c.init);
    const mains = run.containers.filter((c) => !c.init);
    const done = (c: ContainerRun): boolean => now >= c.end;
    const initFailed = inits.some((c) => done(c) && c.exitCode !== 0);
    const initialized = inits.every((c) => done(c) && c.exitCode === 0);
    const mainsDone = mains.every(done);
    const phase =
      initFailed || (mainsDone && mains.some((c) => c.exitCode !== 0))
        ? 'Failed'
        : initialized && mainsDone
          ? 'Succeeded'
          : initialized
            ? 'Running'
            : 'Pending';
    const terminal = phase === 'Failed' || phase === 'Succeeded';
    const running = initialized && !terminal && mains.every((c) => now >= c.start && now < c.end);
    const created = pod.metadata.creationTimestamp ?? formatTime(new Date(now));
    const incomplete = inits.filter((c) => !(done(c) && c.exitCode === 0)).map((c) => c.name);
    const unready = mains.map((c) => c.name);
    const cond = (type: string, ok: boolean, reason?: string, message?: string): JsonObject => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: created,
      ...(ok || !reason ? {} : { reason, ...(message ? { message } : {}) }),
    });
    const hash = fnv32a(podName);
    const podIP = `10.244.${(hash >>> 8) % 250}.${(hash % 250) + 2}`;
    return {
      phase,
      conditions: [
        cond('PodReadyToStartContainers', !terminal),
        cond('Initialized', initialized, 'ContainersNotInitialized', `containers with incomplete status: [${incomplete.join(' ')}]`),
        cond(
          'Ready',
          running,
          terminal ? 'PodCompleted' : 'ContainersNotReady',
          terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`,
        ),
        cond(
          'ContainersReady',
          running,
          terminal ? 'PodCompleted' : 'ContainersNotReady',
          terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`,
        ),
        cond('PodScheduled', true),
      ],
      hostIP: '10.0.0.10',
      hostIPs: [{ ip: '10.0.0.10' }],
      podIP,
      podIPs: [{ ip: podIP }],
      startTime: created,
      ...(inits.length > 0 ? { initContainerStatuses: inits.map(status) } : {}),
      containerStatuses: mains.map(status),
      qosClass: 'BestEffort',
    };
  }
}

/** Query of `GET .../pods/{name}/log`. */
export interface PodLogQuery {
  container?: string;
  timestamps?: boolean;
  sinceTime?: string;
  sinceSeconds?: number;
  tailLines?: number;
  limitBytes?: number;
}

/** Where the API server finds container output; pods it knows nothing of have empty logs. */
export interface PodLogSource {
  logEntries(podUid: string, container: string, now: number): LogEntry[] | undefined;
}

const POD_RESOURCE = { group: '', resource: 'pods', kind: 'Pod' };

function positiveInt(q: URLSearchParams, key: string, min: number): number | undefined {
  const raw = q.get(key);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw errors.badRequest(`${key}: Invalid value: ${raw}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}`);
  return n;
}

/** Parses the log query kube-apiserver accepts (the subset the fake serves). */
export function parsePodLogQuery(q: URLSearchParams): PodLogQuery {
  const query: PodLogQuery = {};
  const container = q.get('container');
  if (container) query.container = container;
  if (q.get('timestamps') === 'true') query.timestamps = true;
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null) {
    if (Number.isNaN(Date.parse(sinceTime)) || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(sinceTime)) {
      throw errors.badRequest(`sinceTime: Invalid value: "${sinceTime}": must be an RFC 3339 time`);
    }
    query.sinceTime = sinceTime;
  }
  const sinceSeconds = positiveInt(q, 'sinceSeconds', 1);
  if (sinceSeconds !== undefined) query.sinceSeconds = sinceSeconds;
  if (query.sinceTime !== undefined && query.sinceSeconds !== undefined)
    throw errors.badRequest('at most one of `sinceTime` or `sinceSeconds` may be specified');
  const tailLines = positiveInt(q, 'tailLines', 0);
  if (tailLines !== undefined) query.tailLines = tailLines;
  const limitBytes = positiveInt(q, 'limitBytes', 1);
  if (limitBytes !== undefined) query.limitBytes = limitBytes;
  return query;
}

/**
 * The text of `GET /api/v1/namespaces/{ns}/pods/{name}/log`: 404 without the pod, 400 when the container is not
 * named and the pod has several containers, is not the pod's, or has not started. `sinceTime` counts in whole seconds (the API
 * server passes it on to the kubelet as RFC 3339), so a client resuming from a line's timestamp sees that second again.
 */
export function podLogText(
  store: FakeStore,
  source: PodLogSource | undefined,
  namespace: string,
  name: string,
  query: PodLogQuery,
  now: number,
): string {
  const pod = store.find('', 'Pod', namespace, name);
  if (!pod) throw errors.notFound(POD_RESOURCE, name);
  const spec = asRecord(pod.spec);
  const names = (list: unknown): string[] =>
    asArray(list)
      .filter(isRecord)
      .map((c) => asString(c.name) ?? '');
  const mains = names(spec.containers);
  const inits = names(spec.initContainers);
  let container = query.container;
  if (container === undefined) {
    // kube-apiserver's validateContainer: the only container is the default (init containers do not count).
    if (mains.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
    if (mains.length > 1)
      throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${[...inits, ...mains].join(' ')}]`);
    container = mains[0];
  }
  if (!mains.includes(container) && !inits.includes(container))
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  const status = asRecord(pod.status);
  const containerStatus = [...asArray(status.initContainerStatuses), ...asArray(status.containerStatuses)]
    .filter(isRecord)
    .find((s) => s.name === container);
  const state = asRecord(containerStatus?.state);
  if (!isRecord(state.running) && !isRecord(state.terminated)) {
    const reason = asString(asRecord(state.waiting).reason) ?? 'ContainerCreating';
    throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
  }
  let entries = source?.logEntries(pod.metadata.uid ?? '', container, now) ?? [];
  const since =
    query.sinceTime !== undefined
      ? Math.floor(Date.parse(query.sinceTime) / 1000) * 1000
      : query.sinceSeconds !== undefined
        ? now - query.sinceSeconds * 1000
        : undefined;
  if (since !== undefined) entries = entries.filter((e) => e.time >= since);
  if (query.tailLines !== undefined) entries = query.tailLines === 0 ? [] : entries.slice(-query.tailLines);
  const text = entries.map((e) => (query.timestamps ? `${formatLogTime(e.time)} ${e.text}` : e.text)).join('');
  if (query.limitBytes === undefined) return text;
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= query.limitBytes ? text : bytes.subarray(0, query.limitBytes).toString('utf8');
}
