import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Challenge } from '@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Challenge';
import { Order } from '@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Order';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { CertificateRequest } from '@kubernetes-models/cert-manager/cert-manager.io/v1/CertificateRequest';
import { type FakeKube, type KubeObject, startFakeKube } from './index';
import { type Clients, connect } from './spec-support';

const T0 = '2030-01-01T00:00:00Z';

/** The simulated cert-manager: the chain it creates, and every way an issuance can end. */
describe('simulated cert-manager', () => {
  let fake: FakeKube;
  let c: Clients;
  const ns = 'certs';

  beforeAll(async () => {
    fake = await startFakeKube({ clock: () => new Date(T0) });
    c = connect(fake);
    await c.core.createNamespace({ body: { metadata: { name: ns } } });
    const issuer = (name: string, spec: Record<string, unknown>) =>
      c.objects.create({ apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name }, spec } as never);
    const acme = (solver: Record<string, unknown>) => ({
      acme: { server: 'https://acme.example/directory', privateKeySecretRef: { name: 'acme-key' }, solvers: [solver] },
    });
    await issuer(
      'dns',
      acme({ dns01: { acmeDNS: { host: 'https://acme-dns.example', accountSecretRef: { name: 'acme-dns', key: 'acmedns.json' } } } }),
    );
    await issuer('http', acme({ http01: { ingress: { ingressClassName: 'nginx' } } }));
    await issuer('ca', { ca: { secretName: 'ca-key-pair' } });
  });
  afterAll(() => fake.close());

  const certificate = (name: string, issuer: string, dnsNames: string[]) =>
    c.objects.create({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name, namespace: ns, labels: { 'apprunner.k8s/custom-domain': name } },
      spec: { secretName: `${name}-tls`, dnsNames, issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer } },
    } as never);
  const get = (apiVersion: string, kind: string, name: string) => fake.store.get(apiVersion, kind, ns, name);
  const owned = (apiVersion: string, kind: string, owner: KubeObject | undefined) =>
    fake.store
      .list(apiVersion, kind, ns)
      .filter((o) => owner && o.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid));
  const chain = (name: string) => {
    const cert = get('cert-manager.io/v1', 'Certificate', name);
    const [request] = owned('cert-manager.io/v1', 'CertificateRequest', cert);
    const [order] = owned('acme.cert-manager.io/v1', 'Order', request);
    return { cert, request, order, challenges: owned('acme.cert-manager.io/v1', 'Challenge', order) };
  };
  const cond = (o: KubeObject | undefined, type: string) => ((o?.status as any)?.conditions ?? []).find((x: any) => x.type === type);

  it('creates the chain cert-manager creates: CertificateRequest, Order, one Challenge per name (DNS-01), valid against the schemas', async () => {
    fake.simulator.pendCertificate('shop', ns);
    await certificate('shop', 'dns', ['shop.example.com', 'www.shop.example.com']);
    await fake.simulator.settle();
    const { cert, request, order, challenges } = chain('shop');

    expect(request.metadata.name).toMatch(/^shop-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(request.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        name: 'shop',
        uid: cert!.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(request.metadata.labels).toEqual({ 'apprunner.k8s/custom-domain': 'shop' });
    expect(request.metadata.annotations).toMatchObject({
      'cert-manager.io/certificate-name': 'shop',
      'cert-manager.io/certificate-revision': '1',
    });
    expect(cond(request, 'Approved')).toMatchObject({ status: 'True', reason: 'cert-manager.io' });
    expect(cond(request, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Pending',
      message: `Waiting on certificate issuance from order ${ns}/${order.metadata.name}: "pending"`,
    });

    expect(order.metadata.name).toMatch(new RegExp(`^${request.metadata.name}-\\d+$`));
    expect(order.metadata.labels).toEqual(request.metadata.labels);
    expect(order.metadata.annotations).toEqual(request.metadata.annotations);
    expect(order.spec).toMatchObject({
      dnsNames: ['shop.example.com', 'www.shop.example.com'],
      issuerRef: { kind: 'ClusterIssuer', name: 'dns' },
    });
    expect((order.status as any).state).toBe('pending');
    expect((order.status as any).authorizations.map((a: any) => a.identifier)).toEqual(['shop.example.com', 'www.shop.example.com']);

    expect(challenges.map((ch) => [(ch.spec as any).type, (ch.spec as any).dnsName])).toEqual(
      expect.arrayContaining([
        ['DNS-01', 'shop.example.com'],
        ['DNS-01', 'www.shop.example.com'],
      ]),
    );
    expect(challenges).toHaveLength(2);
    for (const ch of challenges) {
      expect(ch.metadata.labels).toBeUndefined(); // cert-manager does not label Challenges: follow the owners
      expect(ch.metadata.finalizers).toEqual(['finalizer.acme.cert-manager.io']);
      expect((ch.spec as any).key).toMatch(/^[A-Za-z0-9_-]{43}$/); // base64url SHA-256, the TXT record's value
      expect((ch.spec as any).solver).toEqual({
        dns01: { acmeDNS: { host: 'https://acme-dns.example', accountSecretRef: { name: 'acme-dns', key: 'acmedns.json' } } },
      });
      expect(ch.status).toEqual({
        processing: true,
        presented: true,
        state: 'pending',
        reason: `Waiting for DNS-01 challenge propagation: DNS record for "${(ch.spec as any).dnsName}" not yet propagated`,
      });
    }
    expect(cond(cert, 'Issuing')).toMatchObject({ status: 'True', reason: 'DoesNotExist', observedGeneration: 1 });
    expect(cond(cert, 'Ready')).toMatchObject({ status: 'False', reason: 'DoesNotExist' });
    // what the fake stored passes the cert-manager schemas as a whole (status included)
    for (const [Model, o] of [
      [Certificate, cert],
      [CertificateRequest, request],
      [Order, order],
      ...challenges.map((ch) => [Challenge, ch] as const),
    ] as const) {
      expect(() => new (Model as any)(o).validate()).not.toThrow();
    }
  });

  it('validates the challenges once released (per name, then all): Order valid, request Issued, Secret and Ready; the challenges are cleaned up', async () => {
    const before = chain('shop');
    fake.simulator.scriptIssuance('shop', ns, { outcome: 'pending', names: ['www.shop.example.com'] });
    await fake.simulator.settle();
    const partly = chain('shop');
    expect(Object.fromEntries(partly.challenges.map((ch) => [(ch.spec as any).dnsName, (ch.status as any).state]))).toEqual({
      'shop.example.com': 'valid',
      'www.shop.example.com': 'pending',
    });
    expect((partly.order.status as any).state).toBe('pending');
    fake.simulator.releaseCertificate('shop', ns);
    await fake.simulator.settle();
    const { cert, request, order, challenges } = chain('shop');
    expect(request.metadata.uid).toBe(before.request.metadata.uid);
    expect(order.status as any).toMatchObject({ state: 'valid', certificate: expect.any(String) });
    expect(cond(request, 'Ready')).toMatchObject({ status: 'True', reason: 'Issued' });
    expect(challenges).toEqual([]); // deleted once the order completed (finalizer removed by the solver)
    expect(cond(cert, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(cond(cert, 'Issuing')).toBeUndefined();
    expect((cert!.status as any).revision).toBe(1);
    expect(get('v1', 'Secret', 'shop-tls')).toMatchObject({
      type: 'kubernetes.io/tls',
      metadata: { annotations: { 'cert-manager.io/certificate-name': 'shop' } },
    });
  });

  it('fails an issuance whose challenges the ACME server rejects, down the chain, and retries it when healed', async () => {
    fake.simulator.failCertificate('nope', ns, 'Incorrect TXT record "x" found at _acme-challenge.nope.example.com');
    await certificate('nope', 'dns', ['nope.example.com']);
    await fake.simulator.settle();
    const { cert, request, order, challenges } = chain('nope');
    expect(challenges.map((ch) => ch.status)).toEqual([
      {
        processing: false,
        presented: false,
        state: 'invalid',
        reason: 'Incorrect TXT record "x" found at _acme-challenge.nope.example.com',
      },
    ]);
    expect((order.status as any).state).toBe('invalid');
    expect(cond(request, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: `Failed to wait for order resource "${order.metadata.name}" to become ready: order is in "invalid" state: `,
    });
    expect(cond(cert, 'Issuing')).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: `The certificate request has failed to complete and will be retried: ${cond(request, 'Ready').message}`,
    });
    expect((cert!.status as any).failedIssuanceAttempts).toBe(1);
    expect(get('v1', 'Secret', 'nope-tls')).toBeUndefined();

    fake.simulator.healCertificate('nope', ns);
    await fake.simulator.settle();
    expect(cond(get('cert-manager.io/v1', 'Certificate', 'nope'), 'Ready')).toMatchObject({ status: 'True' });
    expect(
      fake.store
        .list('cert-manager.io/v1', 'CertificateRequest', ns)
        .filter((r) => r.metadata.annotations?.['cert-manager.io/certificate-name'] === 'nope'),
    ).toHaveLength(1);
  });

  it('ends an issuance on a denied request or an errored order, with cert-manager’s reasons', async () => {
    fake.simulator.scriptIssuance('denied', ns, { outcome: 'denied', reason: 'policy forbids example.org' });
    await certificate('denied', 'dns', ['denied.example.org']);
    fake.simulator.scriptIssuance('limited', ns, { outcome: 'errored' });
    await certificate('limited', 'dns', ['limited.example.com']);
    await fake.simulator.settle();

    const denied = chain('denied');
    expect(cond(denied.request, 'Denied')).toMatchObject({
      status: 'True',
      reason: 'policy.cert-manager.io',
      message: 'policy forbids example.org',
    });
    expect(cond(denied.request, 'Ready')).toMatchObject({ status: 'False', reason: 'Denied' });
    expect(denied.order).toBeUndefined();
    expect(cond(denied.cert, 'Issuing')).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: expect.stringContaining('policy forbids example.org'),
    });

    const limited = chain('limited');
    expect(limited.order.status).toMatchObject({ state: 'errored', reason: expect.stringMatching(/rateLimited/) });
    expect(limited.challenges).toEqual([]);
    expect(cond(limited.request, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Failed',
      message: expect.stringContaining('order is in "errored" state: Failed to create Order: 429'),
    });
  });

  it('picks the solver per name (wildcards need DNS-01), signs at once with a non-ACME issuer, and waits for a missing issuer', async () => {
    await certificate('wild', 'dns', ['*.wild.example.com']);
    await certificate('web', 'http', ['web.example.com']);
    await certificate('internal', 'ca', ['internal.example.com']);
    await certificate('orphan', 'nowhere', ['orphan.example.com']);
    fake.simulator.pendCertificate('wild', ns);
    fake.simulator.pendCertificate('web', ns);
    await fake.simulator.settle();

    const [wild] = chain('wild').challenges;
    expect(wild.spec).toMatchObject({ type: 'DNS-01', dnsName: 'wild.example.com', wildcard: true });
    const [web] = chain('web').challenges;
    expect(web.spec).toMatchObject({
      type: 'HTTP-01',
      dnsName: 'web.example.com',
      key: expect.stringMatching(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/),
    });
    expect((web.status as any).reason).toMatch(/^Waiting for HTTP-01 challenge propagation/);

    const internal = chain('internal');
    expect(internal.order).toBeUndefined();
    expect(cond(internal.cert, 'Ready')).toMatchObject({ status: 'True' });

    const orphan = chain('orphan');
    expect(cond(orphan.request, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Pending',
      message: 'Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "nowhere" not found',
    });
    expect(cond(orphan.cert, 'Issuing')).toMatchObject({ status: 'True' });
  });

  it('garbage-collects the chain with its Certificate', async () => {
    const { request, order } = chain('wild');
    expect(fake.store.delete('cert-manager.io/v1', 'Certificate', ns, 'wild')).toBe(true);
    await fake.simulator.settle();
    expect(get('cert-manager.io/v1', 'CertificateRequest', request.metadata.name!)).toBeUndefined();
    expect(get('acme.cert-manager.io/v1', 'Order', order.metadata.name!)).toBeUndefined();
    expect(
      fake.store.list('acme.cert-manager.io/v1', 'Challenge', ns).filter((ch) => (ch.spec as any).dnsName === 'wild.example.com'),
    ).toEqual([]);
    expect(fake.simulator.lastError).toBeUndefined();
  });
});
