import { spawn } from 'node:child_process';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppRunnerClient,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServiceCommand,
  ListOperationsCommand,
  ListServicesCommand,
} from '@aws-sdk/client-apprunner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KubeClient, LiveObject } from '@apprunner/kubernetes';
import { adminKube, adminRequest } from '../support/cluster';
import { CHART, helm, helmAccess, releaseLeftovers } from '../support/helm';
import { nodeApps, type NodeApps, nodeAppService } from '../support/node-apps';
import { gatewayGet, onRealNode, testRealNode } from '../support/real-node';
import { waitFor } from '../support/wait';

const ROOT = join(__dirname, '../..');
const node = testRealNode();
const RELEASE = 'ar';
const NS = 'apprunner-chart';
const BUILD_NS = 'apprunner-chart-builds';
const FULLNAME = `${RELEASE}-apprunner-k8s`;
/** The API's Ingress host; Traefik routes it, and this suite's HTTP agent resolves it to the gateway's loopback address. */
const API_HOST = 'api.chart.apprunner.test';
const LOG = join(ROOT, '.tmp', 'chart-on-node.log');
const say = (line: string) => process.stderr.write(`[chart on node] ${line}\n`);
const seconds = (since: number) => Number(((Date.now() - since) / 1000).toFixed(1));

type Pod = LiveObject & {
  spec: { nodeName?: string; serviceAccountName?: string };
  status?: {
    phase?: string;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; state?: Record<string, any> }>;
  };
};

/** A command with its output kept (stderr streamed into the suite's log): rejects with the tail of it on failure. */
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      writeFileSync(LOG, `$ ${cmd} ${args.join(' ')}\n${stderr}\n`, { flag: 'a' });
      if (status === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${status}: ${stderr.split('\n').slice(-15).join('\n')}`));
    });
  });
}

/** Resolves the API's Ingress host to loopback (where Traefik listens), everything else as usual. */
function gatewayLookup(hostname: string, options: any, callback: any): void {
  if (hostname !== API_HOST) return void dnsLookup(hostname, options, callback);
  if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }] satisfies LookupAddress[]);
  else callback(null, '127.0.0.1', 4);
}
const agent = new Agent({ keepAlive: false, lookup: gatewayLookup } as never);

/** A request to the platform's API through Traefik, by its Ingress host, as curl would send it. */
function apiRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const port = Number(node!.gateway.http.split(':')[1]);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: API_HOST, port, method, path, headers, agent, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The used-by path of issue 15: the platform itself installed by its Helm chart onto the real node. Its image is built
 * here from the repository's Dockerfile (scripts/image/build.sh: buildah on a Debian base made by debootstrap), the
 * evaluation mode's PostgreSQL, Redis and registry images from Debian's packages (scripts/image/evaluation.sh), all
 * pushed to the node's loopback registry; `helm install --wait` of the evaluation values runs the migration Job, the
 * API and the worker as real pods; then the README's tenant steps through the chart's Ingress (Traefik): a tenant and
 * its key with the chart's admin token, CreateService of an image service with the AWS SDK → RUNNING, reconciled by the
 * worker pod as the chart's ServiceAccount, its URL answering through Traefik; DeleteService; `helm uninstall` leaves
 * only what the README says it keeps.
 */
describe.skipIf(!node)(onRealNode('the platform installed by its Helm chart on the real node'), { timeout: 600_000 }, () => {
  const timings: Record<string, number | string> = {};
  let kube: KubeClient;
  let apps: NodeApps;
  let work: string;
  let volumes: string;
  let kubeconfig: string;
  let values: string[];
  let installed = false;
  let uninstalled = false;
  let tenantNamespace: string | undefined;
  const claims = [`data-${FULLNAME}-postgresql-0`, `data-${FULLNAME}-registry-0`];

  beforeAll(async () => {
    writeFileSync(LOG, '');
    const begun = Date.now();
    const registry = node!.node.registry;
    kube = await adminKube(node!);
    work = mkdtempSync(join(tmpdir(), 'chart-on-node-'));

    // the evaluation images (Debian packages on a debootstrapped base), then the platform's image (the Dockerfile)
    let t = Date.now();
    const evaluation = Object.fromEntries(
      (await run('bash', [join(ROOT, 'scripts/image/evaluation.sh')], { PUSH_TO: registry }))
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    timings.evaluationImagesSeconds = seconds(t);
    say(`evaluation images built (or reused) and pushed in ${timings.evaluationImagesSeconds} s: ${JSON.stringify(evaluation)}`);
    for (const name of ['postgres', 'redis', 'registry']) expect(evaluation[name], name).toMatch(/@sha256:[0-9a-f]{64}$/);

    const preset = process.env.APPRUNNER_TEST_PLATFORM_IMAGE;
    if (preset && process.env.CI === 'true')
      throw new Error('APPRUNNER_TEST_PLATFORM_IMAGE is not allowed with CI=true: the suite builds the image from this checkout');
    const local = preset ?? 'localhost/apprunner-k8s:chart-on-node';
    t = Date.now();
    if (preset) say(`APPRUNNER_TEST_PLATFORM_IMAGE: using ${preset} instead of building the image`);
    else await run('bash', [join(ROOT, 'scripts/image/build.sh')], { IMAGE: local });
    timings.platformImageSeconds = preset ? `not built (${preset})` : seconds(t);
    t = Date.now();
    const digestFile = join(work, 'digest');
    await run('buildah', [
      '--storage-driver',
      process.env.BUILDAH_STORAGE_DRIVER ?? 'vfs',
      'push',
      '--quiet',
      '--tls-verify=false',
      '--digestfile',
      digestFile,
      local,
      `docker://${registry}/apprunner-k8s/platform:chart-on-node`,
    ]);
    const digest = readFileSync(digestFile, 'utf8').trim();
    timings.platformImagePushSeconds = seconds(t);
    say(
      `platform image ${local}: ${preset ? 'not built' : `built in ${timings.platformImageSeconds} s`}, pushed in ${timings.platformImagePushSeconds} s (${digest})`,
    );

    apps = await nodeApps(registry);
    t = Date.now();
    await apps.image('v1');
    timings.tenantImageSeconds = seconds(t);

    // static volumes for the StatefulSets' claims (no provisioner on the node), each pre-bound to its claim; a
    // hostPath volume gets no fsGroup, so its folder is made for the user the chart runs the pod as
    volumes = mkdtempSync('/var/tmp/apprunner-chart-volumes-');
    for (const [i, [claim, uid]] of claims.map((c, j) => [c, j === 0 ? 70 : 1000] as const).entries()) {
      const path = join(volumes, claim);
      mkdirSync(path, { mode: 0o700 });
      chownSync(path, uid, uid);
      await kube.apply({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `chart-on-node-${i}`, labels: { 'apprunner-k8s.test/suite': 'chart-on-node' } },
        spec: {
          capacity: { storage: '20Gi' },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          claimRef: { namespace: NS, name: claim },
          hostPath: { path, type: 'Directory' },
        },
      } as LiveObject);
    }

    ({ kubeconfig } = await helmAccess(
      kube,
      { server: node!.server, caFile: node!.caFile, admin: (m, p, b) => adminRequest(node!, m, p, b) },
      work,
      'real-node',
      { proxy: false },
    ));
    values = [
      ['image.repository', `${registry}/apprunner-k8s/platform`],
      ['image.digest', digest],
      ['evaluation.postgresql.image', evaluation.postgres],
      ['evaluation.redis.image', evaluation.redis],
      ['build.registry.inCluster.image', evaluation.registry],
      ['build.namespace', BUILD_NS],
      ['config.kube.ingressClass', node!.gateway.ingressClass],
      ['config.kube.ingressNamespace', node!.gateway.gateway.namespace],
      ['config.kube.certIssuer', node!.issuers.ca],
      ['ingress.enabled', 'true'],
      ['ingress.className', node!.gateway.ingressClass],
      ['ingress.host', API_HOST],
    ].flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    timings.preparationSeconds = seconds(begun);
  }, 1_800_000);

  afterAll(async () => {
    if (installed && !uninstalled) {
      // the state of a failed run, for whoever reads it
      const pods = await kube.list<Pod>('v1', 'Pod', NS, '').catch(() => []);
      const events = await kube.list<LiveObject & { reason?: string; message?: string }>('v1', 'Event', NS, '').catch(() => []);
      writeFileSync(
        LOG,
        `\npods ${JSON.stringify(
          pods.map((p) => [p.metadata.name, p.status]),
          null,
          1,
        )}\nevents ${events.map((e) => `${e.metadata.name} ${e.reason}: ${e.message}`).join('\n')}\n`,
        { flag: 'a' },
      );
      await helm(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '2m'], kubeconfig).catch(() => undefined);
    }
    for (const name of [tenantNamespace, NS, BUILD_NS])
      if (name) await kube?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined);
    if (kube) {
      await waitFor(async () => (await kube.get('v1', 'Namespace', NS)) === undefined, `namespace ${NS} gone`, 120_000).catch((e: Error) =>
        say(e.message),
      );
      for (const pv of await kube.list<LiveObject>('v1', 'PersistentVolume', undefined, 'apprunner-k8s.test/suite=chart-on-node'))
        await kube.delete(pv).catch(() => undefined);
    }
    await apps?.close();
    if (volumes) rmSync(volumes, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
    say(`timings ${JSON.stringify(timings)}`);
  }, 300_000);

  it('helm install --wait: the migration Job completes in a real pod, the API and the worker become available on the node', async () => {
    const begun = Date.now();
    installed = true;
    const install = await helm(
      [
        'install',
        RELEASE,
        CHART,
        '--namespace',
        NS,
        '--create-namespace',
        '-f',
        join(CHART, 'values-evaluation.yaml'),
        ...values,
        '--wait',
        '--timeout',
        '8m',
      ],
      kubeconfig,
    );
    timings.installSeconds = seconds(begun);
    writeFileSync(LOG, `\nhelm install (${timings.installSeconds} s)\n${install.stdout}\n${install.stderr}\n`, { flag: 'a' });
    say(`helm install: exit ${install.status} after ${timings.installSeconds} s`);
    const pods = await kube.list<Pod>('v1', 'Pod', NS, '');
    const states = pods.map(
      (p) => `${p.metadata.name} ${p.status?.phase} ${JSON.stringify(p.status?.containerStatuses?.map((c) => c.state))}`,
    );
    expect(install.status, `${install.stderr}\n${states.join('\n')}`).toBe(0);
    expect(install.stdout).toMatch(/STATUS: deployed/);

    const selector = `app.kubernetes.io/instance=${RELEASE}`;
    const deployments = await kube.list<any>('apps/v1', 'Deployment', NS, selector);
    expect(deployments.map((d) => `${d.metadata.name} ${d.status.availableReplicas}/${d.spec.replicas}`).sort()).toEqual([
      `${FULLNAME}-api 1/1`,
      `${FULLNAME}-worker 1/1`,
    ]);
    const statefulSets = await kube.list<any>('apps/v1', 'StatefulSet', NS, selector);
    expect(statefulSets.map((s) => `${s.metadata.name} ${s.status.readyReplicas}`).sort()).toEqual([
      `${FULLNAME}-postgresql 1`,
      `${FULLNAME}-redis 1`,
      `${FULLNAME}-registry 1`,
    ]);
    const bound = await kube.list<any>('v1', 'PersistentVolumeClaim', NS, '');
    expect(bound.map((c) => `${c.metadata.name} ${c.status.phase}`).sort()).toEqual(claims.map((c) => `${c} Bound`).sort());

    // the migration Job's pod ran on the node and exited 0 (a real process, not a simulated one)
    const job = (await kube.list<any>('batch/v1', 'Job', NS, selector)).find((j) => j.metadata.name.includes('migrate'));
    expect(job?.status?.succeeded).toBe(1);
    const migratePod = pods.find((p) => p.metadata.labels?.['job-name'] === job.metadata.name && p.status?.phase === 'Succeeded');
    expect(migratePod?.spec.nodeName).toBe(node!.node.name);
    expect(migratePod?.status?.containerStatuses?.[0].state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    for (const p of pods.filter((p) => p.status?.phase === 'Running')) {
      expect(p.spec.nodeName).toBe(node!.node.name);
      expect(
        p.status?.containerStatuses?.every((c) => c.ready),
        p.metadata.name,
      ).toBe(true);
    }
    // the API answers through the chart's Ingress
    const ready = await waitFor(
      async () => {
        const r = await apiRequest('GET', '/readyz');
        return r.status === 200 ? r : undefined;
      },
      'the API through Traefik',
      60_000,
    );
    expect(ready.status).toBe(200);
  });

  it("runs the README's tenant steps through the chart's Ingress: a tenant, its key, an image service RUNNING by the worker pod, DeleteService", async () => {
    const secret = await kube.get<LiveObject & { data: Record<string, string> }>('v1', 'Secret', FULLNAME, NS);
    const adminToken = Buffer.from(secret!.data.ADMIN_TOKEN, 'base64').toString();
    const json = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const created = await apiRequest('POST', '/admin/tenants', json, JSON.stringify({ Name: 'team-a' }));
    expect(created.status, created.body).toBe(201);
    const accountId: string = JSON.parse(created.body).Tenant.AccountId;
    tenantNamespace = `apprunner-${accountId}`;
    const key = await apiRequest('POST', `/admin/tenants/${accountId}/access-keys`, { authorization: `Bearer ${adminToken}` });
    expect(key.status, key.body).toBe(201);
    const credential = JSON.parse(key.body).Credential;
    const refused = await apiRequest('POST', '/admin/tenants', { ...json, authorization: 'Bearer wrong-token-wrong-token-wrong' }, '{}');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('AccessDeniedException');

    const client = new AppRunnerClient({
      region: 'us-east-1',
      endpoint: `http://${API_HOST}:${node!.gateway.http.split(':')[1]}`,
      credentials: { accessKeyId: credential.KeyId, secretAccessKey: credential.SecretAccessKey },
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
      maxAttempts: 1,
    });
    const image = await apps.image('v1');
    const begun = Date.now();
    const service = (
      await client.send(
        new CreateServiceCommand({
          ServiceName: 'hello',
          ...nodeAppService(image),
        }),
      )
    ).Service!;
    const describeService = async () => (await client.send(new DescribeServiceCommand({ ServiceArn: service.ServiceArn! }))).Service!;
    await waitFor(async () => (await describeService()).Status === 'RUNNING', 'the service RUNNING', 240_000).catch(async (e: Error) => {
      const ops = await client.send(new ListOperationsCommand({ ServiceArn: service.ServiceArn! }));
      const workerLog = await workerLogs().catch((err: Error) => err.message);
      throw new Error(`${e.message}; operations ${JSON.stringify(ops.OperationSummaryList)}; worker log: ${workerLog.slice(-3000)}`);
    });
    timings.firstRunningSeconds = seconds(begun);
    const served = await waitFor(
      async () => {
        const r = await gatewayGet(node!.gateway.http, service.ServiceUrl!);
        return r.status === 200 && r.body.trim() === 'hello from v1' ? r : undefined;
      },
      `${service.ServiceUrl} through Traefik`,
      60_000,
    );
    timings.firstAnswerSeconds = seconds(begun);
    say(`CreateService → RUNNING in ${timings.firstRunningSeconds} s, its URL answered after ${timings.firstAnswerSeconds} s`);
    expect(served.body.trim()).toBe('hello from v1');
    expect((await client.send(new ListServicesCommand({}))).ServiceSummaryList?.map((s) => s.ServiceName)).toEqual(['hello']);

    // reconciled by the worker pod, as the chart's ServiceAccount: the tenant namespace binds that identity, and the
    // worker pod's own log names the operation (no worker runs outside the cluster in this suite)
    const binding = await kube.get<LiveObject & { subjects: object[]; roleRef: { name: string } }>(
      'rbac.authorization.k8s.io/v1',
      'RoleBinding',
      'apprunner-worker',
      tenantNamespace,
    );
    expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: `${FULLNAME}-worker`, namespace: NS }]);
    expect(binding?.roleRef.name).toBe(`${NS}-${FULLNAME}-worker-tenant`);
    const [pod] = await kube.list<Pod>('v1', 'Pod', tenantNamespace, `apprunner.k8s/service-id=${service.ServiceId}`);
    expect(pod.spec.nodeName).toBe(node!.node.name);
    const [operation] = (await client.send(new ListOperationsCommand({ ServiceArn: service.ServiceArn! }))).OperationSummaryList!;
    expect(operation).toMatchObject({ Type: 'CREATE_SERVICE', Status: 'SUCCEEDED' });
    const log = await workerLogs();
    expect(log).toContain(`operation ${operation.Id} ended: SUCCEEDED`);
    // plain text for kubectl logs and log collectors (the image sets NO_COLOR)
    expect(log).not.toContain('\u001b[');

    await client.send(new DeleteServiceCommand({ ServiceArn: service.ServiceArn! }));
    await waitFor(async () => (await describeService()).Status === 'DELETED', 'the service DELETED', 120_000);
    await waitFor(async () => (await gatewayGet(node!.gateway.http, service.ServiceUrl!)).status === 404, 'its URL gone (404)', 60_000);
  });

  /** The worker pod's log, read through the API server (which asks the node's kubelet). */
  async function workerLogs(): Promise<string> {
    const [pod] = await kube.list<Pod>('v1', 'Pod', NS, `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=worker`);
    const url = new URL(`/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/log?container=worker`, node!.server);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        { ca: readFileSync(node!.caFile), cert: readFileSync(node!.admin.cert), key: readFileSync(node!.admin.key), timeout: 10_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            res.statusCode === 200 ? resolve(text) : reject(new Error(`worker log: ${res.statusCode} ${text.slice(0, 300)}`)),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('helm uninstall leaves only what the README says it keeps: the volumes of PostgreSQL and the registry, the tenant namespace', async () => {
    writeFileSync(LOG, `\nworker log before the uninstall:\n${await workerLogs().catch((e: Error) => e.message)}\n`, { flag: 'a' });
    const begun = Date.now();
    const uninstall = await helm(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '3m'], kubeconfig);
    timings.uninstallSeconds = seconds(begun);
    uninstalled = true;
    expect(uninstall.stderr).toBe('');
    expect(uninstall.status).toBe(0);
    let left: string[] = [];
    await waitFor(
      async () => {
        left = await releaseLeftovers(kube, RELEASE, NS);
        return left.length === 0;
      },
      'nothing of the release left',
      90_000,
    ).catch(() => undefined);
    expect(left).toEqual([]);
    expect((await kube.list<LiveObject>('v1', 'PersistentVolumeClaim', NS, '')).map((c) => c.metadata.name).sort()).toEqual(
      [...claims].sort(),
    );
    expect(await kube.get('v1', 'Namespace', tenantNamespace!)).toBeDefined();
    expect(await kube.list<LiveObject>('v1', 'Pod', NS, '')).toEqual([]);
  });
});
