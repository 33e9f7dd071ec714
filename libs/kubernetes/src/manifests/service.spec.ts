import { describe, expect, it } from 'vitest';
import {
  FULL_SECRET_VALUES,
  SETTINGS,
  SETTINGS_WITH_PAUSED_BACKEND,
  codeInput,
  fullInput,
  imageSpec,
  pausedInput,
  privateDualStackInput,
  privateInput,
  serviceInput,
  TENANT,
} from './__fixtures__/inputs';
import {
  ANNOTATIONS,
  LABELS,
  buildProbes,
  buildServiceObjects,
  buildServiceSecret,
  buildTenantObjects,
  escapeDependentExpansion,
  hashSecretValues,
  isDns1123Subdomain,
  serviceObjectName,
  type KubeObject,
  type ServiceInput,
} from './index';
import { validateObject } from './validate';

const find = (objects: KubeObject[], kind: string, name?: string): any =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const deploymentOf = (input: ServiceInput, settings = SETTINGS): any => find(buildServiceObjects(settings, input), 'Deployment');
const containerOf = (input: ServiceInput): any => deploymentOf(input).spec.template.spec.containers[0];
const kinds = (objects: KubeObject[]) => objects.map((o) => o.kind);

describe('buildServiceObjects: shape', () => {
  it('builds Deployment, Service, HPA, Ingress and NetworkPolicy named svc-<serviceId> in the tenant namespace', () => {
    const objects = buildServiceObjects(SETTINGS, serviceInput());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/svc-8fe1e10304f84fd2b0df550fe98a71fa',
      'Service/svc-8fe1e10304f84fd2b0df550fe98a71fa',
      'HorizontalPodAutoscaler/svc-8fe1e10304f84fd2b0df550fe98a71fa',
      'Ingress/svc-8fe1e10304f84fd2b0df550fe98a71fa',
      'NetworkPolicy/svc-8fe1e10304f84fd2b0df550fe98a71fa',
    ]);
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('apprunner-123456789012');
      expect(o.metadata.labels).toEqual({
        [LABELS.managedBy]: 'apprunner-k8s',
        [LABELS.tenant]: '123456789012',
        [LABELS.service]: '8fe1e10304f84fd2b0df550fe98a71fa',
        [LABELS.serviceName]: 'web',
      });
      expect(o.metadata.annotations).toMatchObject({
        [ANNOTATIONS.arn]: serviceInput().service.arn,
        [ANNOTATIONS.generation]: '1',
        [ANNOTATIONS.operation]: serviceInput().operationId,
      });
    }
  });

  it('derives a 36-character DNS-1035 name from the service id and refuses ids that cannot be one', () => {
    expect(serviceObjectName('8fe1e10304f84fd2b0df550fe98a71fa')).toBe('svc-8fe1e10304f84fd2b0df550fe98a71fa');
    expect(() => serviceObjectName('8FE1_bad')).toThrow();
    expect(() => serviceObjectName('a'.repeat(60))).toThrow();
  });

  it('keeps the exact service name as an annotation and a label-safe form as the label', () => {
    const deployment = deploymentOf(fullInput());
    expect(deployment.metadata.annotations[ANNOTATIONS.serviceName]).toBe('checkout_api_');
    expect(deployment.metadata.labels[LABELS.serviceName]).toBe('checkout_api');
  });

  it('runs one container "app" with the resolved image, port and the instance size as requests = limits', () => {
    const container = containerOf(fullInput());
    expect(container.name).toBe('app');
    expect(container.image).toBe(fullInput().image);
    expect(container.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    expect(container.resources).toEqual({ requests: { cpu: '4', memory: '12Gi' }, limits: { cpu: '4', memory: '12Gi' } });
    expect(containerOf(serviceInput()).resources.limits).toEqual({ cpu: '1', memory: '2Gi' });
  });

  it('rolls with maxUnavailable 0 / maxSurge 25%, selects on the service label only, and hardens the pod', () => {
    const deployment = deploymentOf(serviceInput());
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    expect(deployment.spec.selector).toEqual({ matchLabels: { [LABELS.service]: '8fe1e10304f84fd2b0df550fe98a71fa' } });
    expect(deployment.spec.progressDeadlineSeconds).toBe(600);
    expect(deployment.spec.revisionHistoryLimit).toBe(3);
    expect(deploymentOf(serviceInput(), { ...SETTINGS, progressDeadlineSeconds: 900 }).spec.progressDeadlineSeconds).toBe(900);
    const pod = deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false });
    expect(JSON.stringify(deployment)).not.toContain('runAsNonRoot');
  });

  it('runs the pods as the ServiceAccount of InstanceRoleArn and pulls with the Secret of AccessRoleArn, without mounting a token', () => {
    const pod = deploymentOf({ ...serviceInput(), serviceAccountName: 'app-role', imagePullSecrets: ['registry-cred'] }).spec.template.spec;
    expect(pod.serviceAccountName).toBe('app-role');
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry-cred' }]);
    expect(pod.automountServiceAccountToken).toBe(false);
    const plain = deploymentOf(serviceInput()).spec.template.spec;
    expect(plain.serviceAccountName).toBeUndefined();
    expect(plain.imagePullSecrets).toBeUndefined();
  });

  it("sends the traces of a traced service to the platform collector (OTEL_* variables, egress to its namespace), the app's own values first", () => {
    const tracing = { otlpEndpoint: 'http://otel-collector.observability.svc:4318', collectorNamespace: 'observability' };
    const input = { ...serviceInput(), traced: true };
    const objects = buildServiceObjects({ ...SETTINGS, tracing }, input);
    const env = Object.fromEntries(
      (find(objects, 'Deployment').spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [
        e.name,
        e.value,
      ]),
    );
    expect(env).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability.svc:4318',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_PROPAGATORS: 'xray,tracecontext,baggage',
      OTEL_SERVICE_NAME: input.service.serviceName,
    });
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain(`aws.apprunner.service.arn=${input.service.arn}`);
    expect(find(objects, 'NetworkPolicy').spec.egress.at(-1)).toEqual({
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
      ports: [{ protocol: 'TCP', port: 4318 }],
    });
    // The app's own OTEL_SERVICE_NAME wins; untraced services and platforms without a collector get nothing.
    const own = {
      ...input,
      service: {
        ...input.service,
        spec: {
          ...input.service.spec,
          SourceConfiguration: {
            ImageRepository: {
              ...input.service.spec.SourceConfiguration.ImageRepository!,
              ImageConfiguration: { Port: '8080', RuntimeEnvironmentVariables: { OTEL_SERVICE_NAME: 'mine' } },
            },
          },
        },
      },
    };
    const ownEnv = find(buildServiceObjects({ ...SETTINGS, tracing }, own), 'Deployment').spec.template.spec.containers[0].env;
    expect(ownEnv.filter((e: { name: string }) => e.name === 'OTEL_SERVICE_NAME')).toEqual([{ name: 'OTEL_SERVICE_NAME', value: 'mine' }]);
    for (const [settings, i] of [
      [{ ...SETTINGS, tracing }, serviceInput()],
      [SETTINGS, input],
    ] as const) {
      const names = (find(buildServiceObjects(settings, i), 'Deployment').spec.template.spec.containers[0].env as { name: string }[]).map(
        (e) => e.name,
      );
      expect(names.filter((n) => n.startsWith('OTEL_'))).toEqual([]);
    }
  });

  it('fronts the pods with a ClusterIP Service on port 80 -> the container port', () => {
    const service = find(buildServiceObjects(SETTINGS, fullInput()), 'Service');
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
      selector: { [LABELS.service]: 'c0ffee00c0ffee00c0ffee00c0ffee00' },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 3000 }],
    });
  });

  it('gives DEFAULT egress the internet but nothing private: DNS, its own pods, and every address outside the denied ranges', () => {
    const policy = find(buildServiceObjects(SETTINGS, fullInput()), 'NetworkPolicy') as any;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
      { to: [{ podSelector: { matchLabels: { [LABELS.service]: 'c0ffee00c0ffee00c0ffee00c0ffee00' } } }] },
      {
        to: [
          {
            ipBlock: {
              cidr: '0.0.0.0/0',
              except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8'],
            },
          },
          { ipBlock: { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] } },
        ],
      },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': SETTINGS.ingressControllerNamespace } } }],
        ports: [
          { protocol: 'TCP', port: 80 },
          { protocol: 'TCP', port: 443 },
        ],
      },
    ]);
    // another tenant's pods (private pod network) match no egress rule: no podSelector reaches outside the service,
    // no namespaceSelector but DNS's and the public ingress controller's (HTTP(S) only), and every ipBlock excludes
    // the private ranges
    const peers = policy.spec.egress.flatMap((r: any) => r.to);
    expect(peers.filter((p: any) => p.namespaceSelector).map((p: any) => p.namespaceSelector.matchLabels)).toEqual([
      { 'kubernetes.io/metadata.name': 'kube-system' },
      { 'kubernetes.io/metadata.name': SETTINGS.ingressControllerNamespace },
    ]);
    const custom = find(
      buildServiceObjects({ ...SETTINGS, egressDeniedCidrs: ['10.0.0.0/8', '203.0.113.0/24'] }, fullInput()),
      'NetworkPolicy',
    ) as any;
    expect(custom.spec.egress[2].to[0].ipBlock.except).toEqual(['10.0.0.0/8', '203.0.113.0/24']);
  });

  it('limits VPC egress to the connector subnets under its security groups, and to nothing else', () => {
    const input: ServiceInput = {
      ...fullInput(),
      vpcEgress: {
        subnets: [
          { id: 'subnet-a', cidrs: ['10.1.0.0/16'] },
          { id: 'subnet-b', cidrs: ['10.2.0.0/16'] },
        ],
        securityGroups: [
          {
            id: 'sg-db',
            egress: [
              { Protocol: 'tcp', FromPort: 5432, ToPort: 5432, Cidrs: ['10.1.5.0/24'] },
              { Protocol: 'udp', FromPort: 8000, ToPort: 8100, Cidrs: ['0.0.0.0/0'] },
              { Protocol: 'tcp', FromPort: 443, ToPort: 443, Cidrs: ['192.168.0.0/16'] }, // outside every subnet: no rule
            ],
          },
          { id: 'sg-all', egress: [{ Protocol: '-1', Cidrs: ['10.2.0.0/16'] }] },
        ],
      },
    };
    const egress = (find(buildServiceObjects(SETTINGS, input), 'NetworkPolicy') as any).spec.egress;
    expect(egress.slice(2)).toEqual([
      { to: [{ ipBlock: { cidr: '10.1.5.0/24' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
      {
        to: [{ ipBlock: { cidr: '10.1.0.0/16' } }, { ipBlock: { cidr: '10.2.0.0/16' } }],
        ports: [{ protocol: 'UDP', port: 8000, endPort: 8100 }],
      },
      { to: [{ ipBlock: { cidr: '10.2.0.0/16' } }] },
    ]);
    // DNS and the service's own pods stay reachable; nothing opens the internet
    expect(egress[0].ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(JSON.stringify(egress)).not.toContain('0.0.0.0/0');
  });

  it('maps IpAddressType DUAL_STACK to PreferDualStack, and private services to the private IngressClass when there is one', () => {
    const settings = { ...SETTINGS, privateIngressClassName: 'nginx-private', privateIngressControllerNamespace: 'ingress-private' };
    const objects = buildServiceObjects(settings, privateDualStackInput());
    const service = find(objects, 'Service');
    expect(service.spec.ipFamilyPolicy).toBe('PreferDualStack');
    expect(service.spec.ipFamilies).toBeUndefined();
    expect(find(objects, 'Ingress').spec.ingressClassName).toBe('nginx-private');
    // no private class: a private service has no Ingress at all, never the public one
    expect(buildServiceObjects(SETTINGS, privateDualStackInput()).some((o) => o.kind === 'Ingress')).toBe(false);
    // the private controller's namespace is let through the tenant's NetworkPolicy, next to the public one
    const allow = buildTenantObjects(settings, TENANT).find((o) => o.metadata.name === 'apprunner-allow-ingress-controller') as any;
    expect(allow.spec.ingress[0].from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name'])).toEqual([
      'ingress-nginx',
      'ingress-private',
    ]);
  });

  it('routes urlHost / (Prefix) to the Service through the configured ingress class, with the TLS hook', () => {
    const ingress = find(
      buildServiceObjects({ ...SETTINGS, ingressAnnotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '120' } }, fullInput()),
      'Ingress',
    );
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.rules).toEqual([
      {
        host: 'b7d2qk9zxe.us-east-1.apprunner.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00', port: { number: 80 } } } },
          ],
        },
      },
    ]);
    expect(ingress.spec.tls).toEqual([
      { hosts: ['b7d2qk9zxe.us-east-1.apprunner.example.com'], secretName: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00-tls' },
    ]);
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']).toBe('120');
    expect(find(buildServiceObjects(SETTINGS, serviceInput()), 'Ingress').spec.tls).toBeUndefined();
  });

  it('scales with an autoscaling/v2 HPA between MinSize and MaxSize on 70% CPU', () => {
    const hpa = find(buildServiceObjects(SETTINGS, fullInput()), 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    });
    expect(hpa.metadata.annotations[ANNOTATIONS.maxConcurrency]).toBe('50');
    expect(hpa.metadata.annotations[ANNOTATIONS.autoScalingArn]).toBe(fullInput().autoScaling.arn);
    expect(() =>
      buildServiceObjects(SETTINGS, { ...serviceInput(), autoScaling: { ...serviceInput().autoScaling, minSize: 5, maxSize: 2 } }),
    ).toThrow(/MaxSize/);
  });

  it('scales on MaxConcurrency in-flight requests per pod when the platform serves a concurrency metric, CPU staying second', async () => {
    const hpa = find(
      buildServiceObjects({ ...SETTINGS, concurrencyMetric: 'apprunner_inflight_requests' }, fullInput()),
      'HorizontalPodAutoscaler',
    );
    expect(await validateObject(hpa)).toEqual([]);
    expect(hpa.spec.metrics).toEqual([
      { type: 'Pods', pods: { metric: { name: 'apprunner_inflight_requests' }, target: { type: 'AverageValue', averageValue: '50' } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ]);
  });

  it('leaves spec.replicas to the HPA while running', () => {
    expect(deploymentOf(serviceInput()).spec).not.toHaveProperty('replicas');
  });

  it('admits traffic between pods of the same service only', () => {
    const policy = find(buildServiceObjects(SETTINGS, serviceInput()), 'NetworkPolicy');
    const selector = { matchLabels: { [LABELS.service]: '8fe1e10304f84fd2b0df550fe98a71fa' } };
    expect(policy.spec.podSelector).toEqual(selector);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([{ from: [{ podSelector: selector }] }]);
  });

  it('gives every object a valid name and every built object its own sub-objects (no shared references)', () => {
    for (const input of [serviceInput(), fullInput(), pausedInput(), privateInput(), codeInput()]) {
      const objects = buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, input);
      for (const o of objects) expect(isDns1123Subdomain(o.metadata.name)).toBe(true);
      const seen = new Set<object>();
      const walk = (value: unknown): void => {
        if (value === null || typeof value !== 'object') return;
        expect(seen.has(value), 'shared object reference').toBe(false);
        seen.add(value);
        Object.values(value).forEach(walk);
      };
      objects.forEach(walk);
    }
  });
});

describe('health check -> probes', () => {
  it('TCP defaults: tcpSocket on the port, 5s period, 2s timeout, 1 success, 5 failures', () => {
    const container = containerOf(serviceInput());
    const expected = { tcpSocket: { port: 8080 }, periodSeconds: 5, timeoutSeconds: 2, successThreshold: 1, failureThreshold: 5 };
    expect(container.readinessProbe).toEqual(expected);
    expect(container.livenessProbe).toEqual(expected);
    expect(container.startupProbe).toEqual({ ...expected, failureThreshold: 60 });
  });

  it('HTTP: httpGet on the path; readiness needs HealthyThreshold successes, liveness always 1', () => {
    const container = containerOf(fullInput());
    expect(container.readinessProbe).toEqual({
      httpGet: { path: '/healthz', port: 3000 },
      periodSeconds: 10,
      timeoutSeconds: 5,
      successThreshold: 3,
      failureThreshold: 4,
    });
    expect(container.livenessProbe).toEqual({ ...container.readinessProbe, successThreshold: 1 });
    expect(container.startupProbe).toEqual({ ...container.readinessProbe, successThreshold: 1, failureThreshold: 30 });
  });

  it('liveness successThreshold is 1 for every HealthyThreshold App Runner accepts (1-20)', () => {
    for (let healthy = 1; healthy <= 20; healthy++) {
      const probes = buildProbes(
        { Protocol: 'HTTP', Path: '/', Interval: 7, Timeout: 3, HealthyThreshold: healthy, UnhealthyThreshold: 2 },
        80,
        300,
      );
      expect(probes.livenessProbe.successThreshold).toBe(1);
      expect(probes.startupProbe.successThreshold).toBe(1);
      expect(probes.readinessProbe.successThreshold).toBe(healthy);
      expect(probes.startupProbe.failureThreshold).toBe(43); // ceil(300 / 7)
    }
  });
});

describe('env, command and secrets', () => {
  it('sorts env by name, adds PORT, and references secrets by Secret key', () => {
    const env = containerOf(fullInput()).env;
    expect(env.map((e: { name: string }) => e.name)).toEqual([
      'API_TOKEN',
      'DATABASE_URL',
      'FEATURE_X',
      'LOG_LEVEL',
      'NODE_ENV',
      'PORT',
      'PRICE_TEMPLATE',
    ]);
    expect(env).toContainEqual({ name: 'PORT', value: '3000' });
    expect(env).toContainEqual({ name: 'FEATURE_X', value: 'no' });
    expect(env).toContainEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00-env', key: 'DATABASE_URL' } },
    });
    expect(containerOf(serviceInput()).env).toEqual([{ name: 'PORT', value: '8080' }]);
  });

  it('escapes Kubernetes $(VAR) expansion so values and commands reach the process verbatim', () => {
    expect(escapeDependentExpansion('costs $(AMOUNT) $$ $X')).toBe('costs $$(AMOUNT) $$$$ $$X');
    const container = containerOf(fullInput());
    expect(container.env).toContainEqual({ name: 'PRICE_TEMPLATE', value: 'costs $$(AMOUNT) $$$$' });
    expect(container.command).toEqual(['/bin/sh', '-c', 'node dist/server.js --port "$$PORT"']);
  });

  it('sets no command without a StartCommand (the image entrypoint runs)', () => {
    expect(containerOf(serviceInput())).not.toHaveProperty('command');
    expect(containerOf(serviceInput()).args).toBeUndefined();
  });

  it('never puts secret values in the Deployment; the Secret carries them base64 under data', () => {
    const input = fullInput();
    const objects = buildServiceObjects(SETTINGS, input);
    const text = JSON.stringify(objects);
    for (const value of Object.values(FULL_SECRET_VALUES)) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
    const secret = buildServiceSecret(SETTINGS, input, FULL_SECRET_VALUES) as any;
    expect(secret).toMatchObject({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'svc-c0ffee00c0ffee00c0ffee00c0ffee00-env' },
    });
    expect(Object.keys(secret.data)).toEqual(['API_TOKEN', 'DATABASE_URL']);
    expect(Buffer.from(secret.data.DATABASE_URL, 'base64').toString('utf8')).toBe(FULL_SECRET_VALUES.DATABASE_URL);
    expect(secret.stringData).toBeUndefined();
  });

  it('refuses a Secret that lacks a key the Deployment references', () => {
    expect(() => buildServiceSecret(SETTINGS, fullInput(), { API_TOKEN: 'x' })).toThrow(/DATABASE_URL/);
    expect(() => buildServiceSecret(SETTINGS, fullInput(), { ...FULL_SECRET_VALUES, 'bad key': 'x' })).toThrow(/Secret data key/);
  });

  it('refuses duplicate env names (a plain variable shadowing a secret or PORT)', () => {
    const input = fullInput();
    expect(() => buildServiceObjects(SETTINGS, { ...input, secretEnv: { ...input.secretEnv, NODE_ENV: 'NODE_ENV' } })).toThrow(/NODE_ENV/);
    expect(() => buildServiceObjects(SETTINGS, { ...input, secretEnv: { PORT: 'PORT' } })).toThrow(/PORT/);
  });

  it('puts the secret hash, and nothing per-operation, in the pod template', () => {
    const a = deploymentOf(fullInput());
    expect(a.spec.template.metadata.annotations).toEqual({ [ANNOTATIONS.secretHash]: fullInput().secretHash });
    const next = { ...fullInput(), operationId: 'another-operation', service: { ...fullInput().service, generation: 8 } };
    const b = deploymentOf(next);
    expect(b.metadata.annotations[ANNOTATIONS.generation]).toBe('8');
    expect(b.spec.template).toEqual(a.spec.template);
    expect(deploymentOf({ ...fullInput(), secretHash: 'changed' }).spec.template).not.toEqual(a.spec.template);
    expect(deploymentOf(serviceInput()).spec.template.metadata.annotations).toBeUndefined();
  });

  it('hashes secret values independently of key order, keyed, and sensitive to every value', () => {
    const h = hashSecretValues({ A: '1', B: '2' }, 'k');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecretValues({ B: '2', A: '1' }, 'k')).toBe(h);
    expect(hashSecretValues({ A: '1', B: '3' }, 'k')).not.toBe(h);
    expect(hashSecretValues({ A: '1', B: '2' }, 'other key')).not.toBe(h);
  });
});

describe('sources', () => {
  it('code services run the built image with the API configuration values', () => {
    const container = containerOf(codeInput());
    expect(container.image).toBe(codeInput().image);
    expect(container.command).toEqual(['/bin/sh', '-c', 'npm start']);
    expect(container.ports[0].containerPort).toBe(8000);
    expect(container.resources.limits).toEqual({ cpu: '250m', memory: '512Mi' });
  });

  it('code services configured by apprunner.yaml take the values the build read (default port 8080 otherwise)', () => {
    const input = codeInput();
    const spec = structuredClone(input.service.spec);
    spec.SourceConfiguration.CodeRepository!.CodeConfiguration = { ConfigurationSource: 'REPOSITORY' };
    const repo = { ...input, service: { ...input.service, spec } };
    expect(containerOf(repo).ports[0].containerPort).toBe(8080);
    expect(containerOf(repo)).not.toHaveProperty('command');
    const withValues = {
      ...repo,
      codeConfigurationValues: {
        Runtime: 'PYTHON_311' as const,
        Port: '5000',
        StartCommand: 'gunicorn app:app',
        RuntimeEnvironmentVariables: { A: 'b' },
      },
    };
    expect(containerOf(withValues).ports[0].containerPort).toBe(5000);
    expect(containerOf(withValues).command).toEqual(['/bin/sh', '-c', 'gunicorn app:app']);
    expect(containerOf(withValues).env).toEqual([
      { name: 'A', value: 'b' },
      { name: 'PORT', value: '5000' },
    ]);
  });

  it('refuses a port that is not a TCP port', () => {
    const spec = imageSpec();
    spec.SourceConfiguration.ImageRepository!.ImageConfiguration = { Port: '70000' };
    expect(() => buildServiceObjects(SETTINGS, serviceInput({}, spec))).toThrow(/Port/);
  });
});

describe('paused and private services', () => {
  it('paused: replicas 0, no HPA, Ingress to the paused backend through an ExternalName Service', () => {
    const objects = buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, pausedInput());
    expect(kinds(objects)).toEqual(['Deployment', 'Service', 'Service', 'Ingress', 'NetworkPolicy']);
    expect(find(objects, 'Deployment').spec.replicas).toBe(0);
    const alias = find(objects, 'Service', 'svc-8fe1e10304f84fd2b0df550fe98a71fa-paused');
    expect(alias.spec).toEqual({
      type: 'ExternalName',
      externalName: 'paused-page.apprunner-system.svc.cluster.local',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080, targetPort: 8080 }],
    });
    expect(find(objects, 'Ingress').spec.rules[0].http.paths[0].backend).toEqual({
      service: { name: 'svc-8fe1e10304f84fd2b0df550fe98a71fa-paused', port: { number: 8080 } },
    });
  });

  it('paused without a paused backend: the Ingress keeps pointing at the (empty) service', () => {
    const objects = buildServiceObjects(SETTINGS, pausedInput());
    expect(kinds(objects)).toEqual(['Deployment', 'Service', 'Ingress', 'NetworkPolicy']);
    expect(find(objects, 'Ingress').spec.rules[0].http.paths[0].backend.service.name).toBe('svc-8fe1e10304f84fd2b0df550fe98a71fa');
  });

  it('paused keeps the pod template: resuming rolls nothing', () => {
    expect(deploymentOf(pausedInput()).spec.template).toEqual(deploymentOf(serviceInput()).spec.template);
  });

  it('private (IsPubliclyAccessible false): no Ingress, paused or not', () => {
    expect(kinds(buildServiceObjects(SETTINGS, privateInput()))).toEqual([
      'Deployment',
      'Service',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
    ]);
    expect(kinds(buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, { ...privateInput(), paused: true }))).toEqual([
      'Deployment',
      'Service',
      'NetworkPolicy',
    ]);
  });
});

describe('determinism', () => {
  it('the same input twice gives deep-equal output', () => {
    for (const make of [serviceInput, fullInput, pausedInput, privateInput, codeInput]) {
      expect(buildServiceObjects(SETTINGS, make())).toEqual(buildServiceObjects(SETTINGS, make()));
    }
  });

  it('the insertion order of env, secrets and secret values does not change the output', () => {
    const input = fullInput();
    const reversed = structuredClone(input);
    const cfg = reversed.service.spec.SourceConfiguration.ImageRepository!.ImageConfiguration!;
    cfg.RuntimeEnvironmentVariables = Object.fromEntries(Object.entries(cfg.RuntimeEnvironmentVariables!).reverse());
    reversed.secretEnv = Object.fromEntries(Object.entries(input.secretEnv).reverse());
    expect(JSON.stringify(buildServiceObjects(SETTINGS, reversed))).toBe(JSON.stringify(buildServiceObjects(SETTINGS, input)));
    const values = Object.fromEntries(Object.entries(FULL_SECRET_VALUES).reverse());
    expect(JSON.stringify(buildServiceSecret(SETTINGS, input, values))).toBe(
      JSON.stringify(buildServiceSecret(SETTINGS, input, FULL_SECRET_VALUES)),
    );
  });

  it('does not mutate its input', () => {
    const input = fullInput();
    const before = structuredClone(input);
    buildServiceObjects(SETTINGS_WITH_PAUSED_BACKEND, input);
    buildServiceSecret(SETTINGS, input, FULL_SECRET_VALUES);
    expect(input).toEqual(before);
  });
});
