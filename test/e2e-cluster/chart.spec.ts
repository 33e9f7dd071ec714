import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { clusterDown } from '../../scripts/cluster/local-cluster';
import { EXISTING_PLATFORM_SECRET, REGISTRY_PUSH_SECRET } from '../chart/fixtures';
import type { KubeProxy } from '../support/kube-proxy';
import { CHART, helm, helmAccess, releaseLeftovers } from '../support/helm';
import { adminKube, adminRequest, onRealCluster, startOwnCluster, testCluster } from '../support/real-cluster';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '../..');
const RELEASE = 'ar';
const NAMESPACE = 'apprunner';
const cluster = testCluster();

const ingressClass = (name: string): LiveObject =>
  ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name },
    spec: { controller: 'k8s.io/ingress-nginx' },
  }) as LiveObject;
const clusterIssuer = (name: string): LiveObject =>
  ({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name }, spec: { selfSigned: {} } }) as LiveObject;
/** Registered as metrics-server registers itself; nothing serves it (the checks look for the registration only). */
const METRICS_API = {
  apiVersion: 'apiregistration.k8s.io/v1',
  kind: 'APIService',
  metadata: { name: 'v1beta1.metrics.k8s.io' },
  spec: {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    groupPriorityMinimum: 100,
    versionPriority: 100,
    service: { name: 'metrics-server', namespace: 'kube-system', port: 443 },
    insecureSkipTLSVerify: true,
  },
} as LiveObject;

/**
 * The chart against a real kube-apiserver: the install-time prerequisite checks (Helm `lookup`, present and missing
 * IngressClasses, CRDs, ClusterIssuers, APIServices, Secrets; a bare cluster too), then `helm install` of the
 * evaluation values (the real controllers bind the volumes and run the migration Job; KWOK runs the pods) and
 * `helm uninstall`, which leaves nothing but what the README says it keeps. The suite runs on two clusters of its own
 * (it changes cluster-wide objects: IngressClasses, ClusterIssuers, an APIService that nothing serves, which would
 * stall namespace deletion in the other suites' cluster), built like the suites' one.
 */
describe.skipIf(!cluster)(onRealCluster('Helm chart on a real cluster'), { timeout: 240_000 }, () => {
  let dir: string;
  let kube: KubeClient;
  let bareKube: KubeClient;
  let own: Awaited<ReturnType<typeof startOwnCluster>>;
  let bare: Awaited<ReturnType<typeof startOwnCluster>>;
  const access: Record<'complete' | 'bare', { kubeconfig: string; proxy?: KubeProxy }> = {} as never;
  const PREREQUISITES = [
    ingressClass('nginx'),
    ingressClass('nginx-internal'),
    clusterIssuer('letsencrypt-dns'),
    METRICS_API,
    EXISTING_PLATFORM_SECRET as LiveObject,
    REGISTRY_PUSH_SECRET as LiveObject,
  ];
  const put = (o: LiveObject, client = kube) => client.apply(o);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chart-cluster-'));
    // one with everything the chart needs (cert-manager's CRDs and controller), one bare: what a new cluster has
    [own, bare] = await Promise.all([startOwnCluster('chart'), startOwnCluster('chart-bare', { bare: true })]);
    kube = await adminKube(own, 'helm-test');
    bareKube = await adminKube(bare, 'helm-test');
    for (const client of [kube, bareKube])
      await put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } as LiveObject, client);
    for (const o of PREREQUISITES) await put(o);
    access.complete = await helmAccess(
      kube,
      { server: own.server, caFile: own.caFile, admin: (m, p, b) => adminRequest(own, m, p, b) },
      dir,
      'complete',
    );
    access.bare = await helmAccess(
      bareKube,
      { server: bare.server, caFile: bare.caFile, admin: (m, p, b) => adminRequest(bare, m, p, b) },
      dir,
      'bare',
    );
  }, 120_000);

  afterAll(async () => {
    await access.complete?.proxy?.close();
    await access.bare?.proxy?.close();
    for (const c of [own, bare]) if (c) await clusterDown(c.dir);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** `helm template` that asks the cluster, as install and upgrade do (lookup works with --dry-run=server). */
  const check = (which: 'complete' | 'bare', sets: string[] = []) =>
    helm(
      [
        'template',
        RELEASE,
        CHART,
        '--namespace',
        NAMESPACE,
        '-f',
        join(CHART, 'ci/existing-secret-values.yaml'),
        '--dry-run=server',
        ...sets.flatMap((s) => ['--set', s]),
      ],
      access[which].kubeconfig,
    );

  /** Runs `fn` with `obj` missing from the cluster. */
  async function without<T>(obj: LiveObject, fn: () => Promise<T>): Promise<T> {
    await kube.delete(obj);
    await waitFor(
      async () => (await kube.get(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace)) === undefined,
      `${obj.kind} ${obj.metadata.name} gone`,
    );
    try {
      return await fn();
    } finally {
      await put(obj);
    }
  }

  it('pass on a cluster that has everything, and render nothing of their own', async () => {
    const from = access.complete.proxy!.calls.length;
    const r = await check('complete');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('templates/prerequisites.yaml');
    expect(r.stdout).toContain('kind: Deployment');
    // They did ask the cluster.
    const asked = access.complete
      .proxy!.calls.slice(from)
      .filter((c) => c.method === 'GET' && c.name)
      .map((c) => `${c.resource}/${c.name}`);
    expect(asked).toEqual(
      expect.arrayContaining([
        '/namespaces/kube-system',
        'networking.k8s.io/ingressclasses/nginx',
        'networking.k8s.io/ingressclasses/nginx-internal',
        'apiextensions.k8s.io/customresourcedefinitions/certificates.cert-manager.io',
        'cert-manager.io/clusterissuers/letsencrypt-dns',
        'apiregistration.k8s.io/apiservices/v1beta1.metrics.k8s.io',
        '/secrets/apprunner-platform',
        '/secrets/registry-push',
      ]),
    );
  });

  it.each([
    [
      'the private IngressClass',
      ingressClass('nginx-internal'),
      'IngressClass "nginx-internal" (config.kube.privateIngressClass) does not exist in the cluster: install an ingress controller that provides it, or set config.kube.privateIngressClass to one of the cluster\'s classes (nginx), or skip the prerequisite checks with prerequisites.check=false',
    ],
    ['the public IngressClass', ingressClass('nginx'), 'IngressClass "nginx" (config.kube.ingressClass) does not exist in the cluster'],
    [
      "cert-manager's ClusterIssuer",
      clusterIssuer('letsencrypt-dns'),
      'ClusterIssuer "letsencrypt-dns" (config.kube.certIssuer) does not exist in the cluster',
    ],
    [
      'the metrics API',
      METRICS_API,
      "the metrics API is not installed (no APIService v1beta1.metrics.k8s.io): tenant services' HorizontalPodAutoscalers need it. Install metrics-server",
    ],
    [
      'secrets.existingSecret',
      EXISTING_PLATFORM_SECRET as LiveObject,
      'Secret "apprunner-platform" (secrets.existingSecret) does not exist in namespace apprunner',
    ],
    [
      "the registry's push credential",
      REGISTRY_PUSH_SECRET as LiveObject,
      'Secret "registry-push" (build.registry.existingAuthSecret) does not exist in namespace apprunner or is not of type kubernetes.io/dockerconfigjson',
    ],
  ])('fail the install when %s is missing, naming it and the value to set', async (_what, missing, message) => {
    const r = await without(missing, () => check('complete'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  });

  it("check the API's own IngressClass too, naming every value that uses a class", async () => {
    const sets = ['ingress.enabled=true', 'ingress.host=apprunner.example.com'];
    const shared = await without(ingressClass('nginx'), () => check('complete', [...sets, 'ingress.className=nginx']));
    expect(shared.stderr).toContain('IngressClass "nginx" (config.kube.ingressClass and ingress.className) does not exist in the cluster');
    const own = await check('complete', [...sets, 'ingress.className=traefik']);
    expect(own.stderr).toContain(
      'IngressClass "traefik" (ingress.className) does not exist in the cluster: install an ingress controller that provides it, or set ingress.className to one of the cluster\'s classes (nginx, nginx-internal)',
    );
  });

  it('name the keys an existing Secret lacks', async () => {
    const partial = structuredClone(EXISTING_PLATFORM_SECRET) as LiveObject & { data: Record<string, string> };
    for (const key of ['GITHUB_WEBHOOK_SECRET', 'GITHUB_CLIENT_SECRET', 'REGISTRY_WEBHOOK_TOKEN']) delete partial.data[key];
    await kube.delete(partial);
    await put(partial);
    try {
      const r = await check('complete');
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(
        'Secret "apprunner-platform" (secrets.existingSecret) lacks GITHUB_WEBHOOK_SECRET, GITHUB_CLIENT_SECRET, REGISTRY_WEBHOOK_TOKEN',
      );
      // Without GitHub and the registry webhook, those keys are not needed.
      const off = await check('complete', ['config.github.appId=', 'config.registryWebhook.enabled=false']);
      expect(off.stderr).toBe('');
      expect(off.status).toBe(0);
    } finally {
      await put(EXISTING_PLATFORM_SECRET as LiveObject);
    }
  });

  it("check the build namespace: present when the chart does not create it, not someone else's when it does", async () => {
    const missing = await check('complete', ['build.createNamespace=false', 'build.namespace=ci-builds']);
    expect(missing.stderr).toContain(
      'Namespace "ci-builds" (build.namespace) does not exist: create it, or set build.createNamespace=true',
    );
    await put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-builds' } } as LiveObject);
    try {
      const taken = await check('complete', ['build.namespace=team-builds']);
      expect(taken.stderr).toContain(
        'Namespace "team-builds" (build.namespace) already exists and is not this release\'s: set build.createNamespace=false',
      );
      const used = await check('complete', ['build.namespace=team-builds', 'build.createNamespace=false']);
      expect(used.stderr).toBe('');
    } finally {
      await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-builds' } });
    }
  });

  it('let cert-manager and the metrics API be skipped one by one', async () => {
    await without(clusterIssuer('letsencrypt-dns'), async () => {
      expect((await check('complete', ['prerequisites.certManager=false'])).status).toBe(0);
    });
    await without(METRICS_API, async () => {
      expect((await check('complete', ['prerequisites.metricsApi=false'])).status).toBe(0);
    });
  });

  it('fail on a bare cluster with the first missing prerequisite, and pass there with prerequisites.check=false', async () => {
    const r = await check('bare');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'IngressClass "nginx" (config.kube.ingressClass) does not exist in the cluster: install an ingress controller that provides it, or set config.kube.ingressClass to one of the cluster\'s classes (there are none)',
    );
    await put(ingressClass('nginx'), bareKube);
    await put(ingressClass('nginx-internal'), bareKube);
    expect((await check('bare')).stderr).toContain(
      'cert-manager is not installed (no CustomResourceDefinition certificates.cert-manager.io)',
    );
    expect((await check('bare', ['prerequisites.certManager=false'])).stderr).toContain('the metrics API is not installed');
    const off = await check('bare', ['prerequisites.check=false']);
    expect(off.stderr).toBe('');
    expect(off.status).toBe(0);
  });

  it('installs with the evaluation values: volumes bound, migrations run, API and worker available; uninstall leaves only the kept volumes', async () => {
    const ns = 'apprunner-eval';
    // static volumes for the StatefulSets' claims (no provisioner here): the real PV controller binds them
    for (const [i, size] of ['20Gi', '20Gi', '20Gi'].entries()) {
      await put({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `chart-eval-${i}` },
        spec: {
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Delete',
          hostPath: { path: `/tmp/chart-eval-${i}` },
        },
      } as LiveObject);
    }
    const install = await helm(
      [
        'install',
        RELEASE,
        CHART,
        '--namespace',
        ns,
        '--create-namespace',
        '-f',
        join(CHART, 'values-evaluation.yaml'),
        '--set',
        'image.repository=registry.internal/platform/apprunner-k8s',
        '--set',
        'image.tag=0.1.0',
        '--set',
        `config.kube.certIssuer=${own.issuers.ca}`,
        '--set',
        'build.namespace=apprunner-eval-builds',
        '--wait',
        '--timeout',
        '3m',
      ],
      access.complete.kubeconfig,
    );
    writeFileSync(join(ROOT, '.tmp', 'chart-install.log'), `${install.stdout}\n${install.stderr}`);
    expect(install.stderr.split('\n').filter((l) => l && !/^(level=|W\d{4})/.test(l))).toEqual([]);
    expect(install.status).toBe(0);
    expect(install.stdout).toMatch(/STATUS: deployed/);

    const selector = `app.kubernetes.io/instance=${RELEASE}`;
    const deployments = await kube.list<any>('apps/v1', 'Deployment', ns, selector);
    expect(deployments.map((d) => `${d.metadata.name} ${d.status.availableReplicas}/${d.spec.replicas}`).sort()).toEqual(
      deployments.map((d) => `${d.metadata.name} ${d.spec.replicas}/${d.spec.replicas}`).sort(),
    );
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([`${RELEASE}-apprunner-k8s-api`, `${RELEASE}-apprunner-k8s-worker`]);
    const statefulSets = await kube.list<any>('apps/v1', 'StatefulSet', ns, selector);
    expect(statefulSets.every((s) => s.status.readyReplicas === s.spec.replicas)).toBe(true);
    const claims = await kube.list<any>('v1', 'PersistentVolumeClaim', ns, '');
    expect(claims.length).toBeGreaterThan(0);
    expect(claims.map((c) => c.status.phase)).toEqual(claims.map(() => 'Bound'));
    // the migration Job, run by the real Job controller (KWOK ends its pod with exit code 0)
    const migrate = async () => (await kube.list<any>('batch/v1', 'Job', ns, selector)).find((j) => j.metadata.name.includes('migrate'));
    await waitFor(async () => (await migrate())?.status?.succeeded === 1, 'the migration Job complete', 30_000);
    expect((await migrate()).status.conditions.find((c: any) => c.type === 'Complete')).toMatchObject({ status: 'True' });

    // an APIService that nothing serves (the stand-in for metrics-server) keeps the namespace controller from listing
    // everything, so namespaces would stay Terminating: a real cluster's metrics-server serves it
    await kube.delete(METRICS_API);
    const uninstall = await helm(['uninstall', RELEASE, '--namespace', ns, '--wait', '--timeout', '2m'], access.complete.kubeconfig);
    expect(uninstall.stderr).toBe('');
    expect(uninstall.status).toBe(0);
    let left: string[] = [];
    await waitFor(
      async () => {
        left = await releaseLeftovers(kube, RELEASE, ns);
        return left.length === 0;
      },
      'nothing of the release left',
      60_000,
    ).catch(() => undefined);
    expect(left).toEqual([]);
    // kept on purpose (README): the evaluation databases' and registry's volumes
    expect((await kube.list<any>('v1', 'PersistentVolumeClaim', ns, '')).length).toBe(claims.length);
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });
});
