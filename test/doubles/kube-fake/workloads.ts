/**
 * Pure helpers for the simulated workload controllers: pod-template-hash (FNV-32a + SafeEncodeString, like the
 * deployment controller), rolling-update arithmetic, Pod objects for a ReplicaSet and Pod statuses for the
 * healthy and starting states.
 */
import { asArray, asRecord, asString, isRecord, type JsonObject, type KubeObject, type OwnerReference } from './types';

/** A pod's simulated state: ready, or still starting (ContainerCreating). Failing pods are the real cluster's (KWOK). */
export type PodState = 'ready' | 'starting';

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function fnv32a(input: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(input, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** k8s.io/apimachinery `rand.SafeEncodeString`: maps each character onto a vowel-free alphabet. */
export function safeEncode(s: string): string {
  return [...s].map((c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length]).join('');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The `pod-template-hash` of a Deployment's pod template. */
export function templateHash(template: unknown): string {
  return safeEncode(String(fnv32a(stableJson(template))));
}

function resolveIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = typeof value === 'string' ? /^(\d+)%$/.exec(value) : null;
  if (!m) return 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge/maxUnavailable of a Deployment spec, resolved like `deploymentutil.ResolveFenceposts`. */
export function desiredReplicaCounts(spec: JsonObject, replicas: number): { maxSurge: number; maxUnavailable: number } {
  const strategy = asRecord(spec.strategy);
  if (strategy.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = asRecord(strategy.rollingUpdate);
  const maxSurge = resolveIntOrPercent(ru.maxSurge ?? '25%', replicas, true);
  let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable ?? '25%', replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/** The i-th Pod of a ReplicaSet (deterministic name `<rs>-<5 chars>`). */
export function podFor(rs: KubeObject, index: number, owner: OwnerReference): KubeObject {
  const rsName = rs.metadata.name ?? '';
  const template = asRecord(asRecord(rs.spec).template);
  const meta = asRecord(template.metadata);
  const suffix = safeEncode(String(fnv32a(`${rsName}/${index}`)))
    .padEnd(5, 'b')
    .slice(-5);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rsName}-${suffix}`,
      namespace: rs.metadata.namespace,
      labels: { ...(asRecord(meta.labels) as Record<string, string>) },
      ...(isRecord(meta.annotations) ? { annotations: { ...(meta.annotations as Record<string, string>) } } : {}),
      ownerReferences: [owner],
    },
    spec: { ...asRecord(template.spec), nodeName: 'kube-fake-node' },
  };
}

function qosClass(containers: JsonObject[]): string {
  const resources = containers.map((c) => asRecord(c.resources));
  if (resources.every((r) => Object.keys(asRecord(r.requests)).length === 0 && Object.keys(asRecord(r.limits)).length === 0))
    return 'BestEffort';
  const guaranteed = resources.every((r) => {
    const limits = asRecord(r.limits);
    const requests = { ...limits, ...asRecord(r.requests) };
    return ['cpu', 'memory'].every((k) => limits[k] !== undefined && String(limits[k]) === String(requests[k]));
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function containerStatus(pod: KubeObject, c: JsonObject, state: PodState, started: string): JsonObject {
  const name = asString(c.name) ?? '';
  const image = asString(c.image) ?? '';
  const ids = {
    imageID: `${image.includes('/') ? '' : 'docker.io/library/'}${image}@sha256:${fnv32a(image).toString(16).padStart(8, '0').repeat(8)}`,
  };
  const containerID = `containerd://${fnv32a(`${pod.metadata.name}/${name}`).toString(16).padStart(8, '0').repeat(8)}`;
  return state === 'ready'
    ? { name, image, ...ids, containerID, ready: true, started: true, restartCount: 0, state: { running: { startedAt: started } } }
    : { name, image, ...ids, ready: false, started: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } };
}

/** Status of a simulated Pod. */
export function podStatus(pod: KubeObject, state: PodState): JsonObject {
  const spec = asRecord(pod.spec);
  const containers = asArray(spec.containers).filter(isRecord);
  const started = pod.metadata.creationTimestamp ?? '';
  const statuses = containers.map((c) => containerStatus(pod, c, state, started));
  const ready = statuses.every((s) => s.ready === true);
  const anyStarted = statuses.some((s) => s.started === true || isRecord(asRecord(s.lastState).terminated));
  const unready = statuses.filter((s) => s.ready !== true).map((s) => String(s.name));
  const cond = (type: string, ok: boolean, explain = true): JsonObject => ({
    type,
    status: ok ? 'True' : 'False',
    lastTransitionTime: started,
    ...(ok || !explain ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }),
  });
  const hash = fnv32a(pod.metadata.name ?? '');
  const podIP = `10.244.${(hash >>> 8) % 250}.${(hash % 250) + 2}`;
  return {
    phase: anyStarted ? 'Running' : 'Pending',
    conditions: [
      cond('PodReadyToStartContainers', anyStarted, false),
      { type: 'Initialized', status: 'True', lastTransitionTime: started },
      cond('Ready', ready),
      cond('ContainersReady', ready),
      { type: 'PodScheduled', status: 'True', lastTransitionTime: started },
    ],
    hostIP: '10.0.0.10',
    hostIPs: [{ ip: '10.0.0.10' }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: started,
    containerStatuses: statuses,
    qosClass: qosClass(containers),
  };
}
