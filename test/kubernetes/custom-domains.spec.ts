import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AssociateCustomDomainCommand,
  CreateServiceCommand,
  type CustomDomain,
  DescribeCustomDomainsCommand,
  DescribeServiceCommand,
  DisassociateCustomDomainCommand,
} from '@aws-sdk/client-apprunner';
import { type FakeKube, type PolicyRule, rbacRulesFromCalls, startFakeKube } from '../doubles/kube-fake';
import { CustomDomainReconciler } from '@apprunner/kubernetes';
import { ReconcileSnapshots } from '@apprunner/operation';
import { type KubeProxy, startKubeProxy } from '../support/kube-proxy';
import { startTestPlatform, type TestPlatform, type TestTenant } from '../support/platform';
import { waitFor } from '../support/wait';

/**
 * Custom domains end to end through ACME: the SDK against the platform, the worker against kube-fake, whose simulated
 * cert-manager creates the real chain (Certificate → CertificateRequest → ACME Order → Challenges, objects valid against the
 * cert-manager schemas) and is scripted to reach every status. The worker talks to the fake through a proxy that can
 * refuse a request for good (DELETE_FAILED). This stays on the fake because an ACME server (DNS-01 challenges that
 * wait for the tenant's records, rejections) cannot be had offline; a certificate issued by the real cert-manager
 * (CA issuer) is covered by test/e2e-cluster/scenarios.spec.ts.
 */
describe('custom domains through the cert-manager chain', () => {
  let kube: FakeKube;
  let proxy: KubeProxy;
  let platform: TestPlatform;
  let tenant: TestTenant;
  let ns: string;
  let serviceArn: string;
  let serviceId: string;
  /** A Certificate whose deletion the API server refuses (403), as an RBAC or admission policy would. */
  let protectedCertificate: string | undefined;

  beforeAll(async () => {
    kube = await startFakeKube();
    kube.simulator.start(20);
    proxy = await startKubeProxy(kube.url, (req, res, forward) => {
      const path = new URL(req.url ?? '/', 'http://kube').pathname;
      if (protectedCertificate && req.method === 'DELETE' && path.endsWith(`/certificates/${protectedCertificate}`)) {
        req.resume();
        forbidden(res, protectedCertificate, ns);
        return;
      }
      forward();
    });
    platform = await startTestPlatform({
      kubeSource: { options: { ...kube.kubeConfigOptions(), clusters: [{ name: 'kube-fake', server: proxy.url, skipTLSVerify: true }] } },
      pollMs: 30,
    });
    tenant = await platform.newTenant('custom-domains');
    ns = `apprunner-${tenant.accountId}`;
    const svc = (
      await tenant.client.send(
        new CreateServiceCommand({
          ServiceName: 'storefront',
          SourceConfiguration: { ImageRepository: { ImageIdentifier: 'registry.internal/shop/web:1', ImageRepositoryType: 'ECR' } },
        }),
      )
    ).Service!;
    serviceArn = svc.ServiceArn!;
    serviceId = svc.ServiceId!;
    await waitFor(
      async () => (await tenant.client.send(new DescribeServiceCommand({ ServiceArn: serviceArn }))).Service!.Status === 'RUNNING',
      'service RUNNING',
      20_000,
    );
  });
  afterAll(async () => {
    await platform?.close();
    await proxy?.close();
    await kube?.close();
  });

  const certificateName = (domain: string) => `svc-${serviceId}-d-${createHash('sha256').update(domain).digest('hex').slice(0, 12)}`;
  const describeDomain = async (domain: string): Promise<CustomDomain | undefined> =>
    ((await tenant.client.send(new DescribeCustomDomainsCommand({ ServiceArn: serviceArn }))).CustomDomains ?? []).find(
      (d) => d.DomainName === domain,
    );
  const reach = (domain: string, status: string) =>
    waitFor(
      async () => ((await describeDomain(domain))?.Status === status ? describeDomain(domain) : undefined),
      `${domain} ${status}`,
      20_000,
    );
  const records = (d: CustomDomain | undefined) => (d?.CertificateValidationRecords ?? []).map((r) => `${r.Type} ${r.Name} ${r.Status}`);
  const associate = (domain: string, www = false) =>
    tenant.client.send(new AssociateCustomDomainCommand({ ServiceArn: serviceArn, DomainName: domain, EnableWWWSubdomain: www }));
  /** What cert-manager made for the domain's Certificate, following the owner references as the worker does. */
  const chainOf = (domain: string) => {
    const cert = kube.store.get('cert-manager.io/v1', 'Certificate', ns, certificateName(domain));
    const owned = (apiVersion: string, kind: string, owners: { metadata: { uid?: string } }[]) =>
      kube.store
        .list(apiVersion, kind, ns)
        .filter((o) => o.metadata.ownerReferences?.some((r) => r.controller && owners.some((w) => w.metadata.uid === r.uid)));
    const requests = cert ? owned('cert-manager.io/v1', 'CertificateRequest', [cert]) : [];
    const orders = owned('acme.cert-manager.io/v1', 'Order', requests);
    return { cert, requests, orders, challenges: owned('acme.cert-manager.io/v1', 'Challenge', orders) };
  };
  /** The reason the worker gives for a domain's current state (CustomDomain has no field for it). */
  const reconcilerSays = async (domain: string, status?: string) => {
    const row = await platform.prisma.customDomain.findFirstOrThrow({ where: { domainName: domain } });
    const worker = platform.worker()!;
    const snapshot = (await worker.get(ReconcileSnapshots).customDomain(row.id))!;
    return worker.get(CustomDomainReconciler).reconcile({ ...snapshot, domain: { ...snapshot.domain, ...(status ? { status } : {}) } });
  };

  it('goes CREATING → PENDING_CERTIFICATE_DNS_VALIDATION → BINDING_CERTIFICATE → ACTIVE, the TXT records and statuses following the challenges', async () => {
    const shop = 'shop.example.com';
    kube.simulator.pendCertificate(certificateName(shop), ns); // the tenant has not created the records yet
    const created = (await associate(shop, true)).CustomDomain!;
    expect(created.Status).toBe('CREATING');
    expect(records(created)).toEqual([
      `CNAME _acme-challenge.${shop}. PENDING_VALIDATION`,
      `CNAME _acme-challenge.www.${shop}. PENDING_VALIDATION`,
    ]);

    // CREATING through the chain: the platform's issuer is not installed yet, the request waits for it
    await waitFor(
      async () =>
        ((chainOf(shop).requests[0]?.status as any)?.conditions ?? []).some(
          (c: any) => c.reason === 'Pending' && /not found/.test(c.message),
        ),
      'request waiting for its issuer',
    );
    expect(await reconcilerSays(shop)).toMatchObject({
      status: 'IN_PROGRESS',
      progress: 'CREATING',
      message: expect.stringContaining('Referenced "ClusterIssuer" not found'),
    });
    expect((await describeDomain(shop))?.Status).toBe('CREATING');

    await installIssuer(kube);
    const pending = await reach(shop, 'PENDING_CERTIFICATE_DNS_VALIDATION');
    const { challenges } = chainOf(shop);
    expect(challenges.map((ch) => (ch.spec as any).type)).toEqual(['DNS-01', 'DNS-01']);
    const key = (name: string) => (challenges.find((ch) => (ch.spec as any).dnsName === name)!.spec as any).key as string;
    expect(pending!.CertificateValidationRecords).toEqual([
      expect.objectContaining({ Type: 'CNAME', Name: `_acme-challenge.${shop}.`, Status: 'PENDING_VALIDATION' }),
      expect.objectContaining({ Type: 'CNAME', Name: `_acme-challenge.www.${shop}.`, Status: 'PENDING_VALIDATION' }),
      { Type: 'TXT', Name: `_acme-challenge.${shop}.`, Value: key(shop), Status: 'PENDING_VALIDATION' },
      { Type: 'TXT', Name: `_acme-challenge.www.${shop}.`, Value: key(`www.${shop}`), Status: 'PENDING_VALIDATION' },
    ]);

    // the tenant creates the apex record: its challenge validates, www still waits
    kube.simulator.scriptIssuance(certificateName(shop), ns, { outcome: 'pending', names: [`www.${shop}`] });
    const half = await waitFor(async () => {
      const d = await describeDomain(shop);
      return records(d).includes(`TXT _acme-challenge.${shop}. SUCCESS`) ? d : undefined;
    }, 'apex record validated');
    expect(half!.Status).toBe('PENDING_CERTIFICATE_DNS_VALIDATION');
    expect(records(half)).toEqual([
      `CNAME _acme-challenge.${shop}. SUCCESS`,
      `CNAME _acme-challenge.www.${shop}. PENDING_VALIDATION`,
      `TXT _acme-challenge.${shop}. SUCCESS`,
      `TXT _acme-challenge.www.${shop}. PENDING_VALIDATION`,
    ]);

    // then www: the certificate is issued; the ingress controller has not picked the hosts up yet
    kube.simulator.ingressAddress = '';
    try {
      kube.simulator.releaseCertificate(certificateName(shop), ns);
      const binding = await reach(shop, 'BINDING_CERTIFICATE');
      expect(records(binding).every((r) => r.endsWith(' SUCCESS'))).toBe(true);
      expect(records(binding)).toHaveLength(4);
      expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, certificateName(shop))).toBeDefined();
      await waitFor(async () => chainOf(shop).challenges.length === 0, 'challenges cleaned up'); // cert-manager deletes them once the order is valid
    } finally {
      kube.simulator.ingressAddress = '192.0.2.10';
      kube.simulator.advance(0); // the simulated controllers look at everything again
    }
    const active = await reach(shop, 'ACTIVE');
    expect(records(active)).toEqual([
      `CNAME _acme-challenge.${shop}. SUCCESS`,
      `CNAME _acme-challenge.www.${shop}. SUCCESS`,
      `TXT _acme-challenge.${shop}. SUCCESS`,
      `TXT _acme-challenge.www.${shop}. SUCCESS`,
    ]);
  });

  it('is CREATE_FAILED when the ACME server rejects a challenge, the order errors or the request is denied, with the reason', async () => {
    const bad = 'bad.example.com';
    kube.simulator.pendCertificate(certificateName(bad), ns);
    await associate(bad);
    expect(records(await reach(bad, 'PENDING_CERTIFICATE_DNS_VALIDATION'))).toEqual([
      `CNAME _acme-challenge.${bad}. PENDING_VALIDATION`,
      `TXT _acme-challenge.${bad}. PENDING_VALIDATION`,
    ]);
    const rejection = `Error accepting authorization: acme: authorization error for ${bad}: 403 urn:ietf:params:acme:error:unauthorized: Incorrect TXT record "stale" found at _acme-challenge.${bad}`;
    kube.simulator.failCertificate(certificateName(bad), ns, rejection);
    expect(records(await reach(bad, 'CREATE_FAILED'))).toEqual([
      `CNAME _acme-challenge.${bad}. FAILED`,
      `TXT _acme-challenge.${bad}. FAILED`,
    ]);
    expect((chainOf(bad).challenges[0].status as any).state).toBe('invalid');
    expect(await reconcilerSays(bad)).toEqual({ status: 'FAILED', reason: `Certificate validation failed for ${bad}: ${rejection}` });

    const limited = 'limited.example.com';
    kube.simulator.scriptIssuance(certificateName(limited), ns, { outcome: 'errored' });
    await associate(limited);
    expect(records(await reach(limited, 'CREATE_FAILED'))).toEqual([`CNAME _acme-challenge.${limited}. FAILED`]);
    expect(await reconcilerSays(limited)).toMatchObject({
      status: 'FAILED',
      reason: expect.stringMatching(/^The ACME order for the certificate is errored: Failed to create Order: 429 /),
    });

    const denied = 'denied.example.com';
    kube.simulator.scriptIssuance(certificateName(denied), ns, {
      outcome: 'denied',
      reason: 'approver-policy: no CertificateRequestPolicy allows denied.example.com',
    });
    await associate(denied);
    await reach(denied, 'CREATE_FAILED');
    expect(await reconcilerSays(denied)).toEqual({
      status: 'FAILED',
      reason: 'The certificate request was denied: approver-policy: no CertificateRequestPolicy allows denied.example.com',
    });
  });

  it('is DELETE_FAILED when the cluster refuses to remove the objects for good, and a later disassociation can finish', async () => {
    const kept = 'kept.example.com';
    await associate(kept);
    await reach(kept, 'ACTIVE');
    protectedCertificate = certificateName(kept);
    try {
      const deleting = (await tenant.client.send(new DisassociateCustomDomainCommand({ ServiceArn: serviceArn, DomainName: kept })))
        .CustomDomain!;
      expect(deleting.Status).toBe('DELETING');
      await reach(kept, 'DELETE_FAILED');
      // routing stopped (the Ingress went first); the Certificate the cluster protects is still there
      expect(kube.store.get('networking.k8s.io/v1', 'Ingress', ns, certificateName(kept))).toBeUndefined();
      expect(kube.store.get('cert-manager.io/v1', 'Certificate', ns, certificateName(kept))).toBeDefined();
      expect(await reconcilerSays(kept, 'DELETING')).toEqual({
        status: 'FAILED',
        reason: `The cluster refused to remove the custom domain's objects: delete Certificate ${ns}/${certificateName(kept)}: ${forbiddenMessage(certificateName(kept), ns)}`,
      });
      // terminal: the worker does not keep trying on its own
      const calls = kube.calls.length;
      await new Promise((r) => setTimeout(r, 200));
      expect(kube.calls.slice(calls).filter((c) => c.verb === 'delete')).toEqual([]);
    } finally {
      protectedCertificate = undefined;
    }
    await tenant.client.send(new DisassociateCustomDomainCommand({ ServiceArn: serviceArn, DomainName: kept }));
    await waitFor(async () => (await describeDomain(kept)) === undefined, `${kept} removed`);
    expect(kube.store.get('cert-manager.io/v1', 'Certificate', ns, certificateName(kept))).toBeUndefined();
    expect(kube.store.get('v1', 'Secret', ns, `${certificateName(kept)}-tls`)).toBeUndefined();
  });

  it('needs no permission beyond docs/worker-rbac.json', () => {
    const doc: Record<'cluster' | 'tenantNamespace', PolicyRule[]> = JSON.parse(
      readFileSync(join(__dirname, '../../docs/worker-rbac.json'), 'utf8'),
    );
    const granted = [...doc.cluster, ...doc.tenantNamespace];
    const used = rbacRulesFromCalls(kube.calls.filter((c) => c.user === kube.kubeConfigOptions().users[0].token));
    const missing = used.flatMap((rule) =>
      rule.resources.flatMap((resource) =>
        rule.verbs
          .filter(
            (verb) =>
              !granted.some((g) => g.apiGroups.includes(rule.apiGroups[0]) && g.resources.includes(resource) && g.verbs.includes(verb)),
          )
          .map((verb) => `${verb} ${rule.apiGroups[0]}/${resource}`),
      ),
    );
    expect(missing).toEqual([]);
    expect(used.some((r) => r.apiGroups[0] === 'acme.cert-manager.io' && r.resources.includes('challenges'))).toBe(true);
  });
});

/** The platform's ClusterIssuer: ACME with DNS-01 answered where the tenants' CNAME records delegate to. */
async function installIssuer(kube: FakeKube): Promise<void> {
  const res = await fetch(`${kube.url}/apis/cert-manager.io/v1/clusterissuers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'letsencrypt' },
      spec: {
        acme: {
          server: 'https://acme-v02.api.letsencrypt.org/directory',
          privateKeySecretRef: { name: 'letsencrypt-account' },
          solvers: [
            {
              dns01: { acmeDNS: { host: 'https://acme-dns.apprunner.test', accountSecretRef: { name: 'acme-dns', key: 'acmedns.json' } } },
            },
          ],
        },
      },
    }),
  });
  expect(res.status).toBe(201);
}

function forbiddenMessage(name: string, namespace: string): string {
  return `certificates.cert-manager.io "${name}" is forbidden: User "system:serviceaccount:apprunner:apprunner-worker" cannot delete resource "certificates" in API group "cert-manager.io" in the namespace "${namespace}"`;
}

function forbidden(res: ServerResponse, name: string, namespace: string): void {
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: forbiddenMessage(name, namespace),
      reason: 'Forbidden',
      details: { name, group: 'cert-manager.io', kind: 'certificates' },
      code: 403,
    }),
  );
}
