/**
 * kube-fake: an in-process fake of the Kubernetes API server, served over HTTP on 127.0.0.1, faithful enough that
 * code written against the real `@kubernetes/client-node` (KubernetesObjectApi, typed APIs; no watches)
 * runs unchanged against it, and strict enough (OpenAPI schema + server-side validation) that an invalid
 * manifest fails the test. See README.md in this library for the details and the known deviations.
 */
import { Operations } from './operations';
import { builtinResources, certManagerCrds, ResourceRegistry } from './resources';
import { KubeHttpServer } from './server';
import { ClusterSimulator } from './simulator';
import { FakeStore } from './store';
import type { CallRecord, KubeObject } from './types';
import { Validator } from './validate';

export { rbacRulesFromCalls, type PolicyRule } from './rbac';
export { ClusterSimulator, CONTROLLER_MANAGER, type IssuanceScript } from './simulator';
export { FakeStore, type PropagationPolicy } from './store';
export { defaultJobDigest, JobSimulation, type JobMatch, type JobResult, type JobScript, type LogEntry } from './jobs';
export type { CallRecord, KubeObject, ManagedFieldsEntry, ObjectMeta, OwnerReference, StatusBody, Verb } from './types';

export interface FakeKubeOptions {
  /** Validate every written object against the OpenAPI schemas and server-side rules (default true). */
  validate?: boolean;
  /** Base clock (default: the system clock); `simulator.advance(ms)` adds to it. */
  clock?: () => Date;
  /**
   * Custom resource definitions installed at start (default `'cert-manager'`: Certificate, CertificateRequest, Issuer,
   * ClusterIssuer, and the ACME Order and Challenge).
   */
  crds?: 'cert-manager' | 'none';
  /** Namespaces that exist at start (default: default, kube-system, kube-public, kube-node-lease). */
  namespaces?: string[];
}

/** Input for `KubeConfig.loadFromOptions`. */
export interface FakeKubeConfigOptions {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string; token: string }[];
  contexts: { name: string; cluster: string; user: string }[];
  currentContext: string;
}

export interface FakeKube {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Cluster (skipTLSVerify), user and current context for `KubeConfig.loadFromOptions`. */
  kubeConfigOptions(): FakeKubeConfigOptions;
  /** Direct access to the objects (no validation): get, list, put, patchStatus, delete. */
  store: FakeStore;
  /** Every request served, in order (cleared by `resetCalls`). */
  calls: CallRecord[];
  resetCalls(): void;
  simulator: ClusterSimulator;
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Starts a fake API server on a free port of 127.0.0.1. */
export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const base = options.clock ?? (() => new Date());
  let offset = 0;
  const clock = { now: (): Date => new Date(base().getTime() + offset), advance: (ms: number): void => void (offset += ms) };
  const now = (): Date => clock.now();

  const registry = new ResourceRegistry(builtinResources());
  const store = new FakeStore(registry, now);
  const validator = new Validator(options.validate ?? true);
  const ops = new Operations(store, validator, now);
  const calls: CallRecord[] = [];
  const server = new KubeHttpServer(registry, store, ops, now, calls);
  const simulator = new ClusterSimulator(store, ops, registry, clock);
  server.logSource = simulator.jobs;

  const bootstrap = async (obj: KubeObject): Promise<void> => {
    const rt = registry.byKind(obj.apiVersion, obj.kind);
    if (!rt) throw new Error(`kube-fake: ${obj.kind} is not served`);
    await ops.create({ rt, namespace: obj.metadata.namespace, fieldManager: 'kube-apiserver', fieldManagerGiven: true }, obj);
  };
  for (const name of options.namespaces ?? SYSTEM_NAMESPACES) await bootstrap({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if ((options.crds ?? 'cert-manager') === 'cert-manager') for (const crd of certManagerCrds()) await bootstrap(crd);

  const url = await server.listen();
  return {
    url,
    kubeConfigOptions: () => ({
      clusters: [{ name: 'kube-fake', server: url, skipTLSVerify: true }],
      users: [{ name: 'kube-fake', token: 'kube-fake' }],
      contexts: [{ name: 'kube-fake', cluster: 'kube-fake', user: 'kube-fake' }],
      currentContext: 'kube-fake',
    }),
    store,
    calls,
    resetCalls: () => void (calls.length = 0),
    simulator,
    close: async () => {
      simulator.stop();
      await server.close();
    },
  };
}
