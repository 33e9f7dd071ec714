import { z } from 'zod';

/**
 * The one configuration loader. Every process (API, worker, CLI, tests) reads its settings here,
 * from environment variables, validated once at start-up.
 */
const schema = z.object({
  DATABASE_URL: z.string().default('postgresql://postgres@127.0.0.1:5432/test'),
  /** PostgreSQL schema holding the tables; tests use a schema of their own. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /**
   * Longest a transaction waits for a connection of the pool, and longest it may run (Prisma's maxWait and timeout,
   * 2 s and 5 s by default there): bursts of creates queue on their tenant's lock, and a loaded machine is slow. Past
   * either, the request is refused with ThrottlingException (rolled back, safe to retry).
   */
  DATABASE_TRANSACTION_WAIT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  DATABASE_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(30_000),
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  /** BullMQ key prefix; tests use a prefix of their own. */
  REDIS_PREFIX: z.string().min(1).default('apprunner'),
  /** The region in ARNs, service URLs and the SigV4 credential scope. */
  APPRUNNER_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)
    .default('us-east-1'),
  APPRUNNER_PARTITION: z
    .string()
    .regex(/^aws[a-z-]*$/)
    .default('aws'),
  /** Service URLs are `<service id>.<region>.<platform domain>`. */
  PLATFORM_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/)
    .default('apprunner.localhost'),
  /** 32 bytes, base64 or hex: encrypts SigV4 secret access keys at rest. */
  MASTER_KEY: z.string().min(1),
  /** Bearer token of the platform administrator (admin API). */
  ADMIN_TOKEN: z.string().min(24),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Period of the outbox sweep, and how old work must be before it is enqueued again when its job is not in the queue. */
  OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(1).default(10),
  /** First retry delay of a failed reconcile pass; doubles on every attempt (12 attempts). */
  JOB_BACKOFF_MS: z.coerce.number().int().min(1).default(1_000),
  /**
   * How long a worker holds a job without renewing its lock; a worker that died (killed, node lost) loses its jobs
   * to the others after this long, and they finish them.
   */
  JOB_LOCK_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * Seconds a process takes at most to stop after SIGTERM: the worker lets its reconcile passes finish for half of it
   * and hands the others back to the queue (another worker takes them at once), the API finishes the requests in
   * flight; then the process exits, whatever still hangs. Keep it below the pod's terminationGracePeriodSeconds (the
   * chart derives it from that).
   */
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(20),
  /** Port of the worker's health endpoints (/healthz, /readyz); unset: none (0: any free port, for tests). */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Reconcile jobs one worker process runs at once. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  /** Kubeconfig file of the cluster the worker reconciles into; unset: in-cluster config (service account). */
  KUBECONFIG: z.string().optional(),
  /** Tenant namespaces are `<prefix><account id>`. */
  KUBE_NAMESPACE_PREFIX: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*)$/)
    .max(50)
    .default('apprunner-'),
  /** IngressClass of service Ingresses, and the namespace of its controller (allowed through tenant NetworkPolicies). */
  KUBE_INGRESS_CLASS: z.string().min(1).default('nginx'),
  KUBE_INGRESS_NAMESPACE: z.string().min(1).default('ingress-nginx'),
  /** IngressClass (and its controller's namespace) of private services (IsPubliclyAccessible false); unset: no Ingress. */
  KUBE_PRIVATE_INGRESS_CLASS: z.string().min(1).optional(),
  KUBE_PRIVATE_INGRESS_NAMESPACE: z.string().min(1).optional(),
  /** Comma-separated CIDRs services never reach with DEFAULT egress (default: private, shared, link-local, loopback). */
  KUBE_EGRESS_DENIED_CIDRS: z
    .string()
    .regex(/^[0-9a-fA-F:.]+\/\d{1,3}(,[0-9a-fA-F:.]+\/\d{1,3})*$/)
    .optional(),
  /** cert-manager issuer of custom domains' certificates (HTTP-01 or DNS-01 is the issuer's business). */
  KUBE_CERT_ISSUER: z.string().min(1).default('letsencrypt'),
  KUBE_CERT_ISSUER_KIND: z.enum(['ClusterIssuer', 'Issuer']).default('ClusterIssuer'),
  /** A rollout that has not become available in this many seconds fails (and rolls back). */
  KUBE_PROGRESS_DEADLINE_SECONDS: z.coerce.number().int().min(10).default(600),
  /**
   * `<service>.<namespace>:<port>` of the page a paused service's URL shows ("this service is paused"); unset:
   * a paused service's Ingress keeps pointing at its (empty) Service and the ingress controller answers 503.
   */
  KUBE_PAUSED_BACKEND: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[a-z0-9]([-a-z0-9]*[a-z0-9])?:\d{1,5}$/)
    .optional(),
  /**
   * OTLP endpoint (http(s)://host:port) of the platform's OpenTelemetry collector and its namespace: services with an
   * AWSXRAY observability configuration send their traces there. Unset: no tracing on workloads.
   */
  KUBE_OTLP_ENDPOINT: z.url().optional(),
  KUBE_OTLP_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .optional(),
  /**
   * Name of a per-pod metric of in-flight requests served by the custom metrics API (e.g. prometheus-adapter): HPAs then
   * scale on App Runner's MaxConcurrency, with CPU as a second metric. Unset: CPU only.
   */
  KUBE_CONCURRENCY_METRIC: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
    .optional(),
  /** Field manager of every server-side apply. */
  KUBE_FIELD_MANAGER: z.string().min(1).default('apprunner-k8s'),
  /**
   * ClusterRole the worker binds to its own identity in every tenant namespace it creates (the chart's
   * `<namespace>-<release>-worker-tenant`); unset: no RoleBinding, the worker's cluster-wide rights must suffice.
   */
  KUBE_TENANT_ROLE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/)
    .max(253)
    .optional(),
  /** Seconds between drift-correcting resyncs of settled services; 0 turns resync off. */
  RESYNC_SECONDS: z.coerce.number().int().min(0).default(300),
  /** At most this many services re-applied per second during a resync. */
  RESYNC_PER_SECOND: z.coerce.number().min(0.1).default(20),

  /** External base URL of the API (GitHub App setup callback, webhook URLs shown to admins). */
  PUBLIC_URL: z.url().optional(),
  /** The GitHub App connections install (unset: CreateConnection works, the handshake reports that GitHub is not configured). */
  GITHUB_APP_ID: z.string().regex(/^\d+$/).optional(),
  /** PEM private key of the GitHub App (PKCS#1 or PKCS#8); `\n` escapes are accepted. */
  GITHUB_APP_PRIVATE_KEY: z.string().min(1).optional(),
  GITHUB_APP_SLUG: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .optional(),
  /** Secret the App signs webhook deliveries with (X-Hub-Signature-256). */
  GITHUB_WEBHOOK_SECRET: z.string().min(16).optional(),
  /**
   * The App's OAuth client credentials: the setup callback's `code` becomes a user access token, and the installation
   * must be one the user can access (installation_id alone can be spoofed). Required for handshakes with the App.
   */
  GITHUB_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional(),
  GITHUB_CLIENT_SECRET: z.string().min(16).optional(),
  /** GitHub Enterprise Server: https://HOST/api/v3 and https://HOST. */
  GITHUB_API_URL: z.url().default('https://api.github.com'),
  GITHUB_WEB_URL: z.url().default('https://github.com'),

  /** Registry builds push to, `host[:port][/path]`; images are `<registry>/<account id>/<service id>`. */
  BUILD_REGISTRY: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+(:\d{1,5})?(\/[a-z0-9._/-]+)?$/)
    .optional(),
  /** Speak plain HTTP to BUILD_REGISTRY (a registry on loopback or inside the cluster network). */
  BUILD_REGISTRY_INSECURE: z.stringbool().default(false),
  /** dockerconfigjson file with the push credential of BUILD_REGISTRY. */
  BUILD_REGISTRY_AUTH_FILE: z.string().optional(),
  /** `buildah`: builds run in the worker (buildah installed there); `kubernetes`: builds run as Jobs in BUILD_NAMESPACE. */
  BUILD_DRIVER: z.enum(['buildah', 'kubernetes']).default('buildah'),
  BUILD_NAMESPACE: z.string().default('apprunner-builds'),
  /** Builder image of Kubernetes build Jobs. */
  BUILD_JOB_IMAGE: z.string().default('quay.io/buildah/stable:v1.41.4'),
  /** Image with git of the clone init container of Kubernetes build Jobs (pinned: it handles the repository token). */
  BUILD_CLONE_IMAGE: z.string().min(1).default('docker.io/alpine/git:2.47.2'),
  /** `kubernetes.io/dockerconfigjson` Secret in BUILD_NAMESPACE the build Jobs push with (none: anonymous pushes). */
  BUILD_REGISTRY_AUTH_SECRET: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .max(253)
    .optional(),
  /** CPU, memory and scratch space of a build Job's build container (requests = limits). */
  BUILD_JOB_CPU: z
    .string()
    .regex(/^\d+(\.\d+)?m?$/)
    .default('2'),
  BUILD_JOB_MEMORY: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi|Ti)?$/)
    .default('4Gi'),
  BUILD_JOB_EPHEMERAL_STORAGE: z
    .string()
    .regex(/^\d+(Ki|Mi|Gi|Ti)?$/)
    .default('20Gi'),
  /** Storage of the buildah driver (layer cache lives here between builds). */
  BUILD_STORAGE_DIR: z.string().default('/var/lib/apprunner-k8s/builds'),
  /** JSON object: runtime (e.g. `PYTHON_311`) → base image, overriding docs/runtimes.md's defaults. */
  BUILD_RUNTIME_IMAGES: z.string().optional(),
  BUILD_TIMEOUT_SECONDS: z.coerce.number().int().min(30).default(1_800),
  /** Builds one worker process runs at once. */
  BUILD_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
  /** Bearer token the registry's notifications endpoint sends (image-based automatic deployments). */
  REGISTRY_WEBHOOK_TOKEN: z.string().min(16).optional(),
  /** Seconds between tag → digest polls of image services with automatic deployments; 0 turns polling off. */
  IMAGE_POLL_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Registry hosts spoken to over plain HTTP when resolving digests (comma-separated). */
  INSECURE_REGISTRIES: z.string().optional(),
});

export type PlatformConfig = z.infer<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

export const PLATFORM_CONFIG = Symbol('PLATFORM_CONFIG');

/** LOG_LEVEL as Nest logger levels (`silent` turns logging off). */
export function nestLogLevels(level: PlatformConfig['LOG_LEVEL']): false | ('fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose')[] {
  const order = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 } as const;
  return level === 'silent' ? false : order.slice(0, upTo[level] + 1);
}
