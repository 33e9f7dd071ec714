/**
 * Platform-wide knobs for the manifest builders. Everything here is cluster configuration, not
 * tenant data: the same record always yields the same objects for the same settings.
 */

/**
 * Per-tenant compute caps of the namespace ResourceQuota. The caps scale with the tenant's
 * `Services` quota: `limits.cpu = Services × cpuMilliPerService` (and the same for memory and pods).
 * See `buildResourceQuota` for why this is a budget per service and not App Runner's theoretical
 * maximum (Services × 25 instances × 4 vCPU / 12 GB, i.e. 3,000 vCPU for the default 30 services).
 */
export interface TenantQuotaSettings {
  /** CPU per allowed service, in millicores. Default 4000: four instances of the default 1 vCPU size. */
  cpuMilliPerService: number;
  /** Memory per allowed service, in MiB. Default 8192: four instances of the default 2 GB size. */
  memoryMiPerService: number;
  /** Pods per allowed service. Default 32: App Runner's largest MaxSize (25) plus a 25% rollout surge (7). */
  podsPerService: number;
}

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface KubePlatformSettings {
  /** Tenant namespaces are `<namespacePrefix><accountId>`, e.g. `apprunner-123456789012`. */
  namespacePrefix: string;
  /** `spec.ingressClassName` of every service Ingress, e.g. `nginx`. */
  ingressClassName: string;
  /** Namespace of the ingress controller pods; the tenant NetworkPolicy admits traffic from it. */
  ingressControllerNamespace: string;
  /**
   * IngressClass serving private services (`IsPubliclyAccessible: false`) on the platform's private network, and the
   * namespace of its controller. Without it a private service gets no Ingress at all (cluster-internal only).
   */
  privateIngressClassName?: string;
  privateIngressControllerNamespace?: string;
  /** Server-side apply field manager; also the value of `app.kubernetes.io/managed-by`. */
  fieldManager: string;
  /**
   * ClusterRole the worker binds to itself in each tenant namespace it creates (its rights there); unset: no
   * RoleBinding, the worker's own cluster-wide rights must cover the tenant namespaces.
   */
  tenantRole?: string;
  /**
   * Where a paused service's Ingress sends traffic (e.g. a "service paused" page). An Ingress can only
   * reference Services of its own namespace, so the builders add an ExternalName Service that points
   * to `<serviceName>.<namespace>.svc.<clusterDomain>`. Without it a paused service's Ingress keeps
   * pointing at the (endpoint-less) service, and the ingress controller answers 503.
   */
  pausedBackend?: { serviceName: string; namespace: string; port: number };
  /** Deployment `progressDeadlineSeconds`. Default 600. */
  progressDeadlineSeconds?: number;
  /** Deployment `revisionHistoryLimit`. Default 3. */
  revisionHistoryLimit?: number;
  /**
   * How long a new instance may take to pass its first health check before it is restarted
   * (startupProbe budget). Default 300: App Runner gives an instance 5 minutes to become healthy.
   */
  startupGraceSeconds?: number;
  /**
   * Seconds a stopping instance keeps serving before it gets SIGTERM (a `preStop` sleep): the time the Service's
   * endpoints take to reach the ingress controller. Without it an app that exits at once on SIGTERM gets requests it
   * can no longer answer (found on the real node: 11 of 75 requests failed with 502 during a rollout through Traefik).
   * Default 5; the pod's grace period (30 s) includes it.
   */
  preStopSleepSeconds?: number;
  /** Per-pod custom metric of in-flight requests: the HPA then scales on MaxConcurrency (see the HPA builder). */
  concurrencyMetric?: string;
  /** HPA CPU utilisation target, percent. Default 70. */
  cpuTargetUtilization?: number;
  /**
   * Pod Security Admission level enforced on tenant namespaces. Default `baseline`: `restricted`
   * would reject every image that runs as root, which App Runner images commonly do.
   */
  podSecurityLevel?: PodSecurityLevel;
  /** Extra annotations for every service Ingress (controller tuning, cert-manager issuer...). */
  ingressAnnotations?: Record<string, string>;
  /**
   * Addresses services never reach with DEFAULT egress. Default: RFC 1918, shared (100.64/10), link-local (cloud
   * metadata), loopback and their IPv6 counterparts; add the cluster's own ranges if they are public.
   */
  egressDeniedCidrs?: string[];
  /** Where cluster DNS runs (egress to it on port 53 is allowed). Default `kube-system` / `k8s-app: kube-dns`. */
  dnsNamespace?: string;
  dnsPodLabels?: Record<string, string>;
  /** Cluster DNS domain, used for the paused backend's ExternalName. Default `cluster.local`. */
  clusterDomain?: string;
  tenantQuota?: Partial<TenantQuotaSettings>;
  /**
   * App Runner's X-Ray tracing (ObservabilityConfiguration with TraceConfiguration Vendor AWSXRAY): the OTLP endpoint of
   * the platform's OpenTelemetry collector, given to traced services as OTEL_* variables, and the collector's
   * namespace, which their egress policy then reaches on the endpoint's port. Unset: tracing settings are kept but
   * the workloads get nothing.
   */
  tracing?: { otlpEndpoint: string; collectorNamespace: string };
}

export const DEFAULT_TENANT_QUOTA: TenantQuotaSettings = {
  cpuMilliPerService: 4000,
  memoryMiPerService: 8192,
  podsPerService: 32,
};

export const SETTING_DEFAULTS = {
  progressDeadlineSeconds: 600,
  revisionHistoryLimit: 3,
  startupGraceSeconds: 300,
  preStopSleepSeconds: 5,
  cpuTargetUtilization: 70,
  podSecurityLevel: 'baseline' as PodSecurityLevel,
  clusterDomain: 'cluster.local',
  egressDeniedCidrs: [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '100.64.0.0/10',
    '169.254.0.0/16',
    '127.0.0.0/8',
    'fc00::/7',
    'fe80::/10',
    '::1/128',
  ],
  dnsNamespace: 'kube-system',
  dnsPodLabels: { 'k8s-app': 'kube-dns' } as Record<string, string>,
};

/** Settings with every optional knob filled in. */
export interface ResolvedSettings extends Omit<KubePlatformSettings, keyof typeof SETTING_DEFAULTS | 'tenantQuota' | 'ingressAnnotations'> {
  progressDeadlineSeconds: number;
  revisionHistoryLimit: number;
  startupGraceSeconds: number;
  preStopSleepSeconds: number;
  cpuTargetUtilization: number;
  podSecurityLevel: PodSecurityLevel;
  clusterDomain: string;
  egressDeniedCidrs: string[];
  dnsNamespace: string;
  dnsPodLabels: Record<string, string>;
  ingressAnnotations: Record<string, string>;
  tenantQuota: TenantQuotaSettings;
}

export function resolveSettings(settings: KubePlatformSettings): ResolvedSettings {
  const pick = <K extends keyof typeof SETTING_DEFAULTS>(key: K): (typeof SETTING_DEFAULTS)[K] =>
    (settings[key] ?? SETTING_DEFAULTS[key]) as (typeof SETTING_DEFAULTS)[K];
  return {
    ...settings,
    progressDeadlineSeconds: pick('progressDeadlineSeconds'),
    revisionHistoryLimit: pick('revisionHistoryLimit'),
    startupGraceSeconds: pick('startupGraceSeconds'),
    preStopSleepSeconds: pick('preStopSleepSeconds'),
    cpuTargetUtilization: pick('cpuTargetUtilization'),
    podSecurityLevel: pick('podSecurityLevel'),
    clusterDomain: pick('clusterDomain'),
    egressDeniedCidrs: pick('egressDeniedCidrs'),
    dnsNamespace: pick('dnsNamespace'),
    dnsPodLabels: pick('dnsPodLabels'),
    ingressAnnotations: settings.ingressAnnotations ?? {},
    tenantQuota: { ...DEFAULT_TENANT_QUOTA, ...stripUndefined(settings.tenantQuota ?? {}) },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
