import type {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  ObservableMiddleware,
  VersionApi,
} from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { TransientReconcileError } from '@apprunner/operation';

/** The worker's one Kubernetes client (a `KubeClient`), as a provider. */
export const KUBE_CLIENT = Symbol('KUBE_CLIENT');

/** A Kubernetes object as the API server returns it (the builders produce the narrower `KubeObject`). */
export interface LiveObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
    deletionTimestamp?: string;
  };
  [key: string]: unknown;
}

/** A request the API server refused for good (invalid object, forbidden): retrying cannot help. */
export class KubePermanentError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** One read of a container's log (`pods/log`). */
export interface PodLogOptions {
  /** RFC 3339: only lines stamped at or after it (kube-apiserver counts whole seconds). */
  sinceTime?: string;
  /** Prefix every line with its RFC 3339 (nano) timestamp and a space. */
  timestamps?: boolean;
  /** Stop after about this many bytes (the last line may be cut). */
  limitBytes?: number;
}

/** How the worker finds its cluster: a kubeconfig file, inline options (tests), or the pod's service account. */
export type KubeSource = { kubeconfigPath: string } | { options: object } | { inCluster: true };

export function kubeSourceFromEnv(env: { KUBECONFIG?: string }): KubeSource {
  return env.KUBECONFIG ? { kubeconfigPath: env.KUBECONFIG } : { inCluster: true };
}

/**
 * The one client of one cluster (never a context switched per request). Writes are server-side applies with a
 * single field manager; API errors are sorted into transient (retry with backoff) and permanent ones.
 */
/** The parts of client-node's KubernetesObjectApi that `apply` uses to send an object as it is (checked at connect). */
interface RawObjectApi {
  configuration: {
    baseServer: {
      makeRequestContext(
        path: string,
        method: 'PATCH',
      ): {
        setHeaderParam(name: string, value: string): void;
        setQueryParam(name: string, value: string): void;
        setBody(body: string): void;
      };
    };
  };
  specUriPath(spec: object, action: 'patch'): Promise<string>;
  requestPromise(context: unknown): Promise<unknown>;
}

export class KubeClient {
  /** Count of requests by verb, for benchmarks and call-count assertions. */
  readonly requests = { apply: 0, get: 0, list: 0, delete: 0, log: 0 };

  private constructor(
    private readonly api: KubernetesObjectApi,
    readonly fieldManager: string,
    /** Typed client for what KubernetesObjectApi does not cover (pod logs). */
    private readonly core?: CoreV1Api,
    private readonly versionApi?: VersionApi,
    private readonly reviews?: { authn: AuthenticationV1Api; authz: AuthorizationV1Api },
  ) {}

  static async connect(source: KubeSource, fieldManager: string): Promise<KubeClient> {
    // @kubernetes/client-node is ESM-only; this package compiles to CommonJS.
    const k8s = await import('@kubernetes/client-node');
    const kc: KubeConfig = new k8s.KubeConfig();
    if ('kubeconfigPath' in source) kc.loadFromFile(source.kubeconfigPath);
    else if ('options' in source) kc.loadFromOptions(source.options);
    else kc.loadFromCluster();
    const api = k8s.KubernetesObjectApi.makeApiClient(kc);
    const raw = api as unknown as Partial<RawObjectApi>;
    if (typeof raw.specUriPath !== 'function' || typeof raw.requestPromise !== 'function' || !raw.configuration?.baseServer)
      throw new Error('@kubernetes/client-node changed: KubeClient.apply needs its KubernetesObjectApi internals (see RawObjectApi).');
    return new KubeClient(api, fieldManager, kc.makeApiClient(k8s.CoreV1Api), kc.makeApiClient(k8s.VersionApi), {
      authn: kc.makeApiClient(k8s.AuthenticationV1Api),
      authz: kc.makeApiClient(k8s.AuthorizationV1Api),
    });
  }

  /** Who this client is to the API server (SelfSubjectReview, allowed to every authenticated client). */
  async whoAmI(): Promise<{ username: string; groups: string[] }> {
    if (!this.reviews) throw new Error('This client has no authentication API.');
    const review = await this.call('create SelfSubjectReview', () =>
      this.reviews!.authn.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }),
    );
    const user = review.status?.userInfo;
    if (!user?.username) throw new Error('The API server did not say who this client is (SelfSubjectReview without a username).');
    return { username: user.username, groups: user.groups ?? [] };
  }

  /** Whether the authorizer lets this client do `verb` on `resource` (SelfSubjectAccessReview). */
  async allowed(attributes: { verb: string; group: string; resource: string; namespace?: string }): Promise<boolean> {
    if (!this.reviews) throw new Error('This client has no authorization API.');
    const review = await this.call(`create SelfSubjectAccessReview ${attributes.verb} ${attributes.resource}`, () =>
      this.reviews!.authz.createSelfSubjectAccessReview({
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attributes } },
      }),
    );
    return review.status?.allowed === true;
  }

  /** The API server's version (`/version`, allowed to every authenticated client): the worker's readiness check. */
  async version(): Promise<string> {
    if (!this.versionApi) throw new Error('This client has no version API.');
    const info = await this.call('get /version', () => this.versionApi!.getCode());
    return info.gitVersion;
  }

  /**
   * Server-side apply (create or update), taking ownership of the fields it sets. The object goes to the API server as
   * its own JSON: KubernetesObjectApi.patch would first pass it through client-node's typed models, which keep only the
   * attributes they know under the names they use, and so dropped every NetworkPolicy peer list (`from` is `_from`
   * there): each `ingress: [{ from: [...] }]` reached the API server as `ingress: [{}]`, "allow from everywhere" (found
   * when a real policy engine enforced the platform's policies: docs/real-node.md).
   */
  async apply<T extends LiveObject>(object: T): Promise<T> {
    this.requests.apply++;
    const { PatchStrategy } = await import('@kubernetes/client-node');
    const body = { ...object, metadata: { ...object.metadata } };
    delete body.metadata.resourceVersion;
    const api = this.api as unknown as RawObjectApi;
    return this.call(`apply ${describe(object)}`, async () => {
      const context = api.configuration.baseServer.makeRequestContext(await api.specUriPath(body, 'patch'), 'PATCH');
      context.setHeaderParam('Accept', 'application/json, */*;q=0.8');
      context.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
      context.setQueryParam('fieldManager', this.fieldManager);
      context.setQueryParam('force', 'true');
      context.setBody(JSON.stringify(body));
      return api.requestPromise(context);
    }) as Promise<T>;
  }

  async get<T extends LiveObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
    this.requests.get++;
    const header = { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } };
    try {
      return (await this.call(`get ${kind} ${namespace ?? ''}/${name}`, () => this.api.read(header))) as unknown as T;
    } catch (e) {
      if (e instanceof KubePermanentError && e.code === 404) return undefined;
      throw e;
    }
  }

  async list<T extends LiveObject>(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string): Promise<T[]> {
    this.requests.list++;
    const out = await this.call(`list ${kind}`, () =>
      this.api.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector),
    );
    return out.items.map((item) => ({ ...item, apiVersion, kind }) as unknown as T);
  }

  /** Deletes with background propagation (owned objects follow); false when it was already gone. */
  async delete(
    object: Pick<LiveObject, 'apiVersion' | 'kind' | 'metadata'>,
    propagationPolicy: 'Background' | 'Foreground' = 'Background',
  ): Promise<boolean> {
    this.requests.delete++;
    try {
      await this.call(`delete ${describe(object)}`, () =>
        this.api.delete(object as KubernetesObject, undefined, undefined, undefined, undefined, propagationPolicy),
      );
      return true;
    } catch (e) {
      if (e instanceof KubePermanentError && e.code === 404) return false;
      throw e;
    }
  }

  /**
   * A container's log as far as it is written; undefined when the pod is gone. A container that has not started
   * yet is a 400 (KubePermanentError with code 400).
   */
  async podLog(namespace: string, name: string, container: string, opts: PodLogOptions = {}): Promise<string | undefined> {
    this.requests.log++;
    const core = this.core;
    if (!core) throw new Error('KubeClient.podLog: this client was not made by KubeClient.connect');
    const { Observable } = await import('@kubernetes/client-node');
    const { sinceTime } = opts;
    // The generated CoreV1Api lacks sinceTime (kube-apiserver accepts it): a request middleware adds it.
    const withSinceTime: ObservableMiddleware[] =
      sinceTime === undefined
        ? []
        : [
            {
              pre: (context) => {
                context.setQueryParam('sinceTime', sinceTime);
                return new Observable(Promise.resolve(context));
              },
              post: (context) => new Observable(Promise.resolve(context)),
            },
          ];
    try {
      return await this.call(`read the log of container ${container} of Pod ${namespace}/${name}`, () =>
        core.readNamespacedPodLog(
          {
            name,
            namespace,
            container,
            ...(opts.timestamps ? { timestamps: true } : {}),
            ...(opts.limitBytes !== undefined ? { limitBytes: opts.limitBytes } : {}),
          },
          withSinceTime.length > 0 ? { middleware: withSinceTime, middlewareMergeStrategy: 'append' } : undefined,
        ),
      );
    } catch (e) {
      if (e instanceof KubePermanentError && e.code === 404) return undefined;
      throw e;
    }
  }

  private async call<R>(what: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (e) {
      throw classify(what, e);
    }
  }
}

function describe(o: Pick<LiveObject, 'kind' | 'metadata'>): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** 409 (conflict), 429 (throttled), 5xx and network failures are transient; other API errors are permanent. */
export function classify(what: string, e: unknown): Error {
  const code = typeof (e as { code?: unknown })?.code === 'number' ? (e as { code: number }).code : undefined;
  const body = (e as { body?: unknown })?.body;
  const detail = statusMessage(body) ?? (e instanceof Error ? e.message : String(e));
  if (code === undefined || code === 409 || code === 429 || code >= 500) return new TransientReconcileError(`${what}: ${detail}`);
  return new KubePermanentError(code, `${what}: ${detail}`);
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 500) || undefined;
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}
