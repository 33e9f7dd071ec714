import type { HealthCheckConfiguration } from '@aws-sdk/client-apprunner';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IIngressBackend } from 'kubernetes-models/networking.k8s.io/v1/IngressBackend';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IService } from 'kubernetes-models/v1/Service';
import { ANNOTATIONS, LABELS, serviceAnnotations, serviceLabels, serviceSelector } from './labels';
import { namespaceName, pausedServiceName, serviceObjectName, serviceSecretName } from './names';
import { toKubeObject } from './object';
import { instanceQuantities } from './resources';
import { resolveSettings, type KubePlatformSettings, type ResolvedSettings } from './settings';
import { cidrIntersection } from './cidr';
import type { KubeObject, KubeObjectMeta, ServiceInput, VpcEgress } from './types';

/** App Runner's default port when the record has none (normalizeSource always fills it in). */
export const DEFAULT_CONTAINER_PORT = 8080;
/** Port of the ClusterIP Service in front of the pods; the Ingress targets it. */
export const SERVICE_PORT = 80;
export const CONTAINER_NAME = 'app';
const PORT_NAME = 'http';

/** What the container runs with, from the image or code configuration of the record. */
export interface RuntimeSettings {
  port: number;
  startCommand?: string;
  env: Record<string, string>;
}

/**
 * The desired objects of one service, in apply order:
 * Deployment, Service, [ExternalName Service of the paused backend], [HorizontalPodAutoscaler],
 * [Ingress], NetworkPolicy.
 *
 * - Paused: Deployment at `replicas: 0`, no HPA; the Ingress stays and, when `settings.pausedBackend`
 *   is set, points to it through an ExternalName Service.
 * - Private (`IsPubliclyAccessible: false`): the Ingress uses `settings.privateIngressClassName` (the platform's
 *   private network); without one there is no Ingress and the service is only reachable inside the cluster.
 * - `IpAddressType`: IPV4 → a SingleStack IPv4 Service; DUAL_STACK → PreferDualStack (IPv4 and IPv6 where the
 *   cluster has both, IPv4 alone elsewhere rather than a failed apply).
 * - The per-service Secret (when `secretEnv` is non-empty) comes from `buildServiceSecret`.
 *
 * Objects absent from the list must be removed by the applier (prune by the service label), e.g. the
 * HPA on pause or the Ingress when a service turns private.
 */
export function buildServiceObjects(settings: KubePlatformSettings, input: ServiceInput): KubeObject[] {
  const s = resolveSettings(settings);
  const objects: KubeObject[] = [buildDeployment(s, input), buildService(s, input)];
  const publicService = input.service.spec.NetworkConfiguration?.IngressConfiguration?.IsPubliclyAccessible !== false;
  const ingressClass = publicService ? s.ingressClassName : s.privateIngressClassName;
  const pausedBackend = input.paused && ingressClass ? s.pausedBackend : undefined;
  if (pausedBackend) objects.push(buildPausedBackendService(s, input, pausedBackend));
  if (!input.paused) objects.push(buildHorizontalPodAutoscaler(s, input));
  if (ingressClass) objects.push(buildIngress(s, input, pausedBackend, ingressClass));
  objects.push(buildServiceNetworkPolicy(s, input));
  return objects;
}

function meta(s: ResolvedSettings, input: ServiceInput, name: string, extraAnnotations: Record<string, string> = {}): KubeObjectMeta {
  return {
    name,
    namespace: namespaceName(s, input.tenant.accountId),
    labels: serviceLabels(s.fieldManager, input),
    annotations: { ...extraAnnotations, ...serviceAnnotations(input) },
  };
}

/** Port, start command and plain env of the record (image configuration or code configuration). */
export function runtimeSettings(input: ServiceInput): RuntimeSettings {
  const source = input.service.spec.SourceConfiguration;
  let values: { Port?: string; StartCommand?: string; RuntimeEnvironmentVariables?: Record<string, string> } | undefined;
  if (source.ImageRepository) {
    values = source.ImageRepository.ImageConfiguration;
  } else if (source.CodeRepository) {
    const code = source.CodeRepository.CodeConfiguration;
    values = code?.ConfigurationSource === 'API' ? code.CodeConfigurationValues : input.codeConfigurationValues;
  } else {
    throw new Error('SourceConfiguration has neither ImageRepository nor CodeRepository.');
  }
  const startCommand = values?.StartCommand?.trim();
  return {
    port: parsePort(values?.Port),
    ...(startCommand ? { startCommand } : {}),
    env: values?.RuntimeEnvironmentVariables ?? {},
  };
}

function parsePort(port: string | undefined): number {
  if (port === undefined || port === '') return DEFAULT_CONTAINER_PORT;
  const n = /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error(`Port ${JSON.stringify(port)} is not a valid TCP port.`);
  return n;
}

/**
 * Kubernetes expands `$(NAME)` in env values and commands and turns `$$` into `$`; App Runner passes
 * both through untouched. Doubling every `$` makes Kubernetes hand the exact string to the process.
 */
export function escapeDependentExpansion(value: string): string {
  return value.replace(/\$/g, () => '$$');
}

/**
 * Env of the container, sorted by name: the plain variables, `PORT` (App Runner always sets it), and
 * the secret ones as `secretKeyRef`s into the per-service Secret (names and keys only, never values).
 */
export function buildEnv(
  input: ServiceInput,
  runtime: RuntimeSettings = runtimeSettings(input),
  settings?: KubePlatformSettings,
): IEnvVar[] {
  const env = new Map<string, IEnvVar>();
  const add = (entry: IEnvVar) => {
    if (env.has(entry.name)) throw new Error(`Environment variable ${entry.name} is defined more than once (PORT is reserved).`);
    env.set(entry.name, entry);
  };
  add({ name: 'PORT', value: String(runtime.port) });
  for (const [name, value] of Object.entries(runtime.env)) add({ name, value: escapeDependentExpansion(value) });
  const secretName = serviceSecretName(input.service.serviceId);
  for (const [name, key] of Object.entries(input.secretEnv)) add({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
  // Tracing (App Runner's X-Ray integration) through OpenTelemetry's standard variables; the app's own values win.
  for (const [name, value] of Object.entries(tracingEnv(input, settings)))
    if (!env.has(name)) add({ name, value: escapeDependentExpansion(value) });
  return [...env.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** OTEL_* variables of a traced service: OTLP to the platform's collector, X-Ray trace context, App Runner's resource. */
export function tracingEnv(input: ServiceInput, settings: KubePlatformSettings | undefined): Record<string, string> {
  if (!input.traced || !settings?.tracing) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: settings.tracing.otlpEndpoint,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_PROPAGATORS: 'xray,tracecontext,baggage',
    OTEL_SERVICE_NAME: input.service.serviceName,
    OTEL_RESOURCE_ATTRIBUTES: `cloud.account.id=${input.tenant.accountId},aws.apprunner.service.arn=${input.service.arn}`,
  };
}

/**
 * App Runner health check -> probes. TCP opens a connection to the port, HTTP GETs the path.
 * - readiness: Interval/Timeout, HealthyThreshold successes to become ready, UnhealthyThreshold failures to leave.
 * - liveness: the same check, but Kubernetes only accepts successThreshold 1 on liveness probes.
 * - startup: the same check repeated for `startupGraceSeconds` (App Runner: healthy within 5 minutes
 *   of start), so slow starters are not killed by the liveness probe's short budget.
 */
export function buildProbes(
  healthCheck: Required<HealthCheckConfiguration>,
  port: number,
  startupGraceSeconds: number,
): { readinessProbe: IProbe; livenessProbe: IProbe; startupProbe: IProbe } {
  // A fresh object per probe: shared sub-objects would alias each other in the output.
  const probe = (successThreshold: number, failureThreshold: number): IProbe => ({
    ...(healthCheck.Protocol === 'HTTP' ? { httpGet: { path: healthCheck.Path || '/', port } } : { tcpSocket: { port } }),
    periodSeconds: healthCheck.Interval,
    timeoutSeconds: healthCheck.Timeout,
    successThreshold,
    failureThreshold,
  });
  return {
    readinessProbe: probe(healthCheck.HealthyThreshold, healthCheck.UnhealthyThreshold),
    livenessProbe: probe(1, healthCheck.UnhealthyThreshold),
    startupProbe: probe(1, Math.max(1, Math.ceil(startupGraceSeconds / healthCheck.Interval))),
  };
}

function buildContainer(s: ResolvedSettings, input: ServiceInput): IContainer {
  const runtime = runtimeSettings(input);
  const resources = instanceQuantities(input.service.spec.InstanceConfiguration);
  return {
    name: CONTAINER_NAME,
    image: input.image,
    ...(runtime.startCommand ? { command: ['/bin/sh', '-c', escapeDependentExpansion(runtime.startCommand)] } : {}),
    ports: [{ name: PORT_NAME, containerPort: runtime.port, protocol: 'TCP' }],
    env: buildEnv(input, runtime, s),
    resources: { requests: { ...resources }, limits: { ...resources } },
    ...buildProbes(input.service.spec.HealthCheckConfiguration, runtime.port, s.startupGraceSeconds),
    // A stopping pod leaves the Service's endpoints at once, but the ingress controller learns it a moment later:
    // until then it keeps sending requests there. The kubelet's sleep (no binary needed in the image) keeps the app
    // serving them before its SIGTERM.
    ...(s.preStopSleepSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: s.preStopSleepSeconds } } } } : {}),
    securityContext: { allowPrivilegeEscalation: false },
  };
}

/**
 * Replicas: `0` when paused; otherwise omitted, because the HPA owns `spec.replicas` (an applied
 * `replicas: minSize` would reset a scaled-out service on every operation, or conflict with the HPA's
 * field ownership under server-side apply). A new Deployment starts at Kubernetes' default of 1 and
 * the HPA raises it to MinSize at once (the HPA enforces min/max even without metrics). On resume,
 * dropping the field from the apply resets it to 1 and the HPA takes over again.
 */
export function buildDeployment(settings: KubePlatformSettings, input: ServiceInput): KubeObject {
  const s = resolveSettings(settings);
  const name = serviceObjectName(input.service.serviceId);
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(s, input, name),
    spec: {
      ...(input.paused ? { replicas: 0 } : {}),
      selector: { matchLabels: serviceSelector(input) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      progressDeadlineSeconds: s.progressDeadlineSeconds,
      revisionHistoryLimit: s.revisionHistoryLimit,
      template: {
        // Only what should roll the pods belongs here: labels are fixed for the service's life,
        // the secret hash changes exactly when a secret value does.
        metadata: {
          labels: serviceLabels(s.fieldManager, input),
          ...(input.secretHash ? { annotations: { [ANNOTATIONS.secretHash]: input.secretHash } } : {}),
        },
        spec: {
          automountServiceAccountToken: false,
          // No `<SVC>_SERVICE_HOST` variables of the tenant's other services in the app's env.
          enableServiceLinks: false,
          // runAsNonRoot is deliberately not set: arbitrary App Runner images may run as root.
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          ...(input.imagePullSecrets?.length ? { imagePullSecrets: input.imagePullSecrets.map((name) => ({ name })) } : {}),
          // The token stays unmounted: workload identity webhooks (EKS, AKS) project their own, GKE needs none.
          ...(input.serviceAccountName ? { serviceAccountName: input.serviceAccountName } : {}),
          containers: [buildContainer(s, input)],
        },
      },
    },
  };
  return toKubeObject(deployment);
}

function buildService(s: ResolvedSettings, input: ServiceInput): KubeObject {
  const { port } = runtimeSettings(input);
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(s, input, serviceObjectName(input.service.serviceId)),
    spec: {
      type: 'ClusterIP',
      ...(input.service.spec.NetworkConfiguration?.IpAddressType === 'DUAL_STACK'
        ? { ipFamilyPolicy: 'PreferDualStack' }
        : { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] }),
      selector: serviceSelector(input),
      ports: [{ name: PORT_NAME, protocol: 'TCP', port: SERVICE_PORT, targetPort: port }],
    },
  };
  return toKubeObject(service);
}

/** An Ingress only reaches Services of its namespace: this one aliases the platform's paused page. */
function buildPausedBackendService(
  s: ResolvedSettings,
  input: ServiceInput,
  backend: NonNullable<KubePlatformSettings['pausedBackend']>,
): KubeObject {
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(s, input, pausedServiceName(input.service.serviceId)),
    spec: {
      type: 'ExternalName',
      externalName: `${backend.serviceName}.${backend.namespace}.svc.${s.clusterDomain}`,
      ports: [{ name: PORT_NAME, protocol: 'TCP', port: backend.port, targetPort: backend.port }],
    },
  };
  return toKubeObject(service);
}

/**
 * App Runner scales on request concurrency: another instance once the instances average MaxConcurrency requests in
 * flight, between MinSize and MaxSize. With `settings.concurrencyMetric` (a per-pod metric of in-flight requests the
 * cluster's custom metrics API serves, e.g. through prometheus-adapter from the ingress controller or a sidecar) the
 * HPA targets an average of MaxConcurrency per pod; CPU utilisation stays as a second metric (the HPA follows the
 * larger), so a missing metric never stops scaling. Without it the HPA scales on CPU only; MaxConcurrency is kept as
 * an annotation either way.
 */
function buildHorizontalPodAutoscaler(s: ResolvedSettings, input: ServiceInput): KubeObject {
  const { minSize, maxSize, maxConcurrency, arn } = input.autoScaling;
  if (!Number.isInteger(minSize) || minSize < 1 || !Number.isInteger(maxSize) || maxSize < minSize) {
    throw new Error(`Invalid auto scaling sizes MinSize ${minSize} / MaxSize ${maxSize}.`);
  }
  const name = serviceObjectName(input.service.serviceId);
  const hpa: IHorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta(s, input, name, { [ANNOTATIONS.autoScalingArn]: arn, [ANNOTATIONS.maxConcurrency]: String(maxConcurrency) }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: minSize,
      maxReplicas: maxSize,
      metrics: [
        ...(s.concurrencyMetric
          ? [
              {
                type: 'Pods' as const,
                pods: {
                  metric: { name: s.concurrencyMetric },
                  target: { type: 'AverageValue' as const, averageValue: String(maxConcurrency) },
                },
              },
            ]
          : []),
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.cpuTargetUtilization } } },
      ],
    },
  };
  return toKubeObject(hpa);
}

/**
 * Public entry point: `urlHost`, path `/` (Prefix) -> the Service's port 80. TLS is a hook
 * (`input.tls`); certificates come with cert-manager in a later issue.
 */
function buildIngress(
  s: ResolvedSettings,
  input: ServiceInput,
  pausedBackend: KubePlatformSettings['pausedBackend'],
  ingressClassName: string,
): KubeObject {
  const name = serviceObjectName(input.service.serviceId);
  const backend: IIngressBackend = pausedBackend
    ? { service: { name: pausedServiceName(input.service.serviceId), port: { number: pausedBackend.port } } }
    : { service: { name, port: { number: SERVICE_PORT } } };
  const host = input.service.urlHost;
  const ingress: IIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(s, input, name, s.ingressAnnotations),
    spec: {
      ingressClassName,
      ...(input.tls ? { tls: [{ hosts: [host], secretName: input.tls.secretName }] } : {}),
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }],
    },
  };
  return toKubeObject(ingress);
}

/** Pods of the service may talk to each other; the tenant policies deny everything else but the ingress controller. */
function buildServiceNetworkPolicy(s: ResolvedSettings, input: ServiceInput): KubeObject {
  const selector = serviceSelector(input);
  const policy: INetworkPolicy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(s, input, serviceObjectName(input.service.serviceId)),
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { ...selector } } }] }],
      egress: [...(input.vpcEgress ? vpcEgress(s, selector, input.vpcEgress) : defaultEgress(s, selector)), ...collectorEgress(s, input)],
    },
  };
  return toKubeObject(policy);
}

/**
 * App Runner's DEFAULT egress: the public internet, nothing private. Allowed: cluster DNS, the service's own pods,
 * every address outside `settings.egressDeniedCidrs` (the private, shared and link-local ranges by default, so
 * other tenants' pods, cluster services, nodes and cloud metadata endpoints are out of reach), and the public
 * ingress controller on 80/443 (the way in to every public service, this one's neighbours included).
 */
type EgressRules = NonNullable<NonNullable<INetworkPolicy['spec']>['egress']>;

function defaultEgress(s: ResolvedSettings, selector: Record<string, string>): EgressRules {
  const v4 = s.egressDeniedCidrs.filter((c) => !c.includes(':'));
  const v6 = s.egressDeniedCidrs.filter((c) => c.includes(':'));
  return [
    ...clusterEgress(s, selector),
    { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: v4 } }, { ipBlock: { cidr: '::/0', except: v6 } }] },
    // Other App Runner services by their public URL: where kube-proxy short-circuits the load balancer's IP to the
    // public ingress controller's pods (`ipMode: VIP`), the call arrives at their (private) pod IPs, on HTTP(S) only.
    {
      to: [{ namespaceSelector: { matchLabels: { [LABELS.namespaceName]: s.ingressControllerNamespace } } }],
      ports: [
        { protocol: 'TCP', port: 80 },
        { protocol: 'TCP', port: 443 },
      ],
    },
  ];
}

/** A traced service reaches the platform's OpenTelemetry collector (on the OTLP endpoint's port), whatever the egress type. */
function collectorEgress(s: ResolvedSettings, input: ServiceInput): EgressRules {
  if (!input.traced || !s.tracing) return [];
  const url = new URL(s.tracing.otlpEndpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return [
    {
      to: [{ namespaceSelector: { matchLabels: { [LABELS.namespaceName]: s.tracing.collectorNamespace } } }],
      ports: [{ protocol: 'TCP', port }],
    },
  ];
}

/** Cluster DNS and the service's own pods: reachable whatever the egress type. */
function clusterEgress(s: ResolvedSettings, selector: Record<string, string>): EgressRules {
  return [
    {
      to: [
        { namespaceSelector: { matchLabels: { [LABELS.namespaceName]: s.dnsNamespace } }, podSelector: { matchLabels: s.dnsPodLabels } },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    },
    { to: [{ podSelector: { matchLabels: { ...selector } } }] },
  ];
}

/**
 * `EgressType: VPC`: like App Runner's VPC connector, traffic leaves only into the connector's subnets, and only as
 * its security groups allow: per rule, the part of the subnets' CIDRs the rule's CIDRs cover, on the rule's protocol
 * and ports (`-1`: any). Nothing else: not the internet, not other tenants.
 */
function vpcEgress(s: ResolvedSettings, selector: Record<string, string>, vpc: VpcEgress): EgressRules {
  const subnetCidrs = [...new Set(vpc.subnets.flatMap((n) => n.cidrs))];
  const rules: EgressRules = [];
  for (const rule of vpc.securityGroups.flatMap((g) => g.egress)) {
    const blocks = cidrIntersection(subnetCidrs, rule.Cidrs);
    if (blocks.length === 0) continue;
    const protocols = rule.Protocol === '-1' ? [] : [rule.Protocol.toUpperCase() as 'TCP' | 'UDP'];
    const ports =
      rule.Protocol === '-1'
        ? undefined
        : protocols.map((protocol) => ({
            protocol,
            ...(rule.FromPort !== undefined ? { port: rule.FromPort } : {}),
            ...(rule.ToPort !== undefined && rule.FromPort !== undefined && rule.ToPort !== rule.FromPort ? { endPort: rule.ToPort } : {}),
          }));
    rules.push({ to: blocks.map((cidr) => ({ ipBlock: { cidr } })), ...(ports ? { ports } : {}) });
  }
  return [...clusterEgress(s, selector), ...rules];
}
