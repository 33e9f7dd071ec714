/**
 * Test support for the kube-fake specs: real @kubernetes/client-node clients connected to a fake, and small
 * helpers to read `ApiException`s.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { FakeKube } from './index';

export interface Clients {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  core: CoreV1Api;
  apps: AppsV1Api;
}

export function connect(fake: FakeKube): Clients {
  const kc = new KubeConfig();
  kc.loadFromOptions(fake.kubeConfigOptions());
  return { kc, objects: KubernetesObjectApi.makeApiClient(kc), core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** The HTTP code and parsed `Status` body of a rejected client-node call. */
export async function failure(p: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: unknown; body?: unknown };
    if (typeof err.code !== 'number') throw e;
    const body =
      typeof err.body === 'string' ? (JSON.parse(err.body) as Record<string, unknown>) : ((err.body ?? {}) as Record<string, unknown>);
    return { code: err.code, body };
  }
  throw new Error('expected the call to fail');
}

/** A manifest as tests write it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  spec: Record<string, unknown>;
  [key: string]: unknown;
}

export function deployment(name: string, namespace: string, image = 'nginx:1.27', replicas = 2): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] } },
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns true (or throws after `timeoutMs`). */
export async function until(fn: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}
