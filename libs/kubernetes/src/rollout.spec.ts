import { describe, expect, it } from 'vitest';
import { Challenge } from '@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Challenge';
import { Order } from '@kubernetes-models/cert-manager/acme.cert-manager.io/v1/Order';
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { CertificateRequest } from '@kubernetes-models/cert-manager/cert-manager.io/v1/CertificateRequest';
import { TransientReconcileError, type ValidationRecord } from '@apprunner/operation';
import { classify, KubePermanentError, type LiveObject } from './kube-client';
import { type CertificateChain, certificateValidationRecords, customDomainState, failureReason, rolloutState } from './rollout';

const deployment = (generation: number, replicas: number | undefined, status: Record<string, unknown>): LiveObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'n', generation },
  spec: replicas === undefined ? {} : { replicas },
  status,
});
const progressing = (reason: string, status = 'True') => ({ type: 'Progressing', status, reason, message: `m-${reason}` });

describe('rolloutState (kubectl rollout status rules)', () => {
  it('waits for the controller to observe the latest generation', () => {
    expect(rolloutState(deployment(3, 1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).state).toBe(
      'progressing',
    );
  });
  it('waits for every replica to be updated, old ones to go, and new ones to be available', () => {
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 3 }))).toEqual({
      state: 'progressing',
      message: '2 of 3 instances updated.',
    });
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({
      state: 'progressing',
      message: '1 old instances pending termination.',
    });
    expect(rolloutState(deployment(2, 3, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 }))).toEqual({
      state: 'progressing',
      message: '2 of 3 updated instances available.',
    });
  });
  it('is complete when all replicas run the new template and are available (replicas default to 1)', () => {
    expect(
      rolloutState(
        deployment(2, undefined, {
          observedGeneration: 2,
          replicas: 1,
          updatedReplicas: 1,
          availableReplicas: 1,
          conditions: [progressing('NewReplicaSetAvailable')],
        }),
      ),
    ).toEqual({ state: 'complete' });
    expect(rolloutState(deployment(5, 0, { observedGeneration: 5 }))).toEqual({ state: 'complete' });
  });
  it('fails on ProgressDeadlineExceeded, with the pods’ reason when there is one', () => {
    const dep = deployment(2, 1, {
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 1,
      availableReplicas: 1,
      conditions: [progressing('ProgressDeadlineExceeded', 'False')],
    });
    expect(rolloutState(dep)).toEqual({
      state: 'failed',
      reason: 'The new version did not become healthy in time: m-ProgressDeadlineExceeded.',
    });
    const pod: LiveObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      status: {
        containerStatuses: [
          {
            name: 'app',
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } },
            lastState: { terminated: { reason: 'Error', exitCode: 3 } },
          },
        ],
      },
    };
    expect(rolloutState(dep, [pod])).toEqual({ state: 'failed', reason: 'CrashLoopBackOff: back-off 5m0s (last exit: Error, code 3)' });
  });

  it("ends the reason with one period when the controller's message has its own (as kube-controller-manager's does)", () => {
    const condition = {
      type: 'Progressing',
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "web-5d9c" has timed out progressing.',
    };
    const dep = deployment(2, 1, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1, conditions: [condition] });
    expect(rolloutState(dep)).toEqual({
      state: 'failed',
      reason: 'The new version did not become healthy in time: ReplicaSet "web-5d9c" has timed out progressing.',
    });
  });
  it('ignores harmless waiting reasons', () => {
    const pod: LiveObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      status: { containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] },
    };
    expect(failureReason([pod])).toBeUndefined();
  });
});

describe('classify (which API errors are worth a retry)', () => {
  it('retries conflicts, throttling, server errors and network failures', () => {
    for (const code of [409, 429, 500, 503])
      expect(classify('x', { code, body: { message: 'busy' } })).toBeInstanceOf(TransientReconcileError);
    expect(classify('x', new Error('ECONNREFUSED'))).toBeInstanceOf(TransientReconcileError);
  });
  it('does not retry invalid or forbidden requests, and keeps the API server’s message', () => {
    const e = classify('apply Deployment n/d', {
      code: 422,
      body: JSON.stringify({ kind: 'Status', message: 'spec.replicas: Invalid value' }),
    });
    expect(e).toBeInstanceOf(KubePermanentError);
    expect(e.message).toBe('apply Deployment n/d: spec.replicas: Invalid value');
    expect((e as KubePermanentError).code).toBe(422);
  });
});

// ---- custom domains --------------------------------------------------------------------------------------------

const T = '2030-01-01T00:00:00Z';
const MODELS: Record<string, new (data: never) => { validate(): void }> = { Certificate, CertificateRequest, Order, Challenge } as never;
/** Fixtures as cert-manager writes them: each one must pass its cert-manager schema, or the test is wrong. */
function valid<T extends LiveObject>(o: T): T {
  new MODELS[o.kind](o as never).validate();
  return o;
}
const owner = (o: LiveObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  uid: o.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});
const cond = (type: string, status: string, reason: string, message = `${type} ${reason}`, observedGeneration?: number) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: T,
  ...(observedGeneration ? { observedGeneration } : {}),
});
const issuerRef = { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' };

function certificate(status: Record<string, unknown> = {}, generation = 1): LiveObject {
  return valid({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'svc-1-d-abc', namespace: 'n', uid: 'cert-uid', generation },
    spec: { secretName: 'svc-1-d-abc-tls', dnsNames: ['shop.example.com', 'www.shop.example.com'], issuerRef },
    status,
  });
}
function request(cert: LiveObject, conditions: unknown[], revision = '1', uid = 'cr-uid'): LiveObject {
  return valid({
    apiVersion: 'cert-manager.io/v1',
    kind: 'CertificateRequest',
    metadata: {
      name: `svc-1-d-abc-${uid}`,
      namespace: 'n',
      uid,
      creationTimestamp: T,
      ownerReferences: [owner(cert)],
      annotations: { 'cert-manager.io/certificate-name': 'svc-1-d-abc', 'cert-manager.io/certificate-revision': revision },
    },
    spec: { issuerRef, request: 'LS0tLS1CRUdJTg==' },
    status: { conditions },
  });
}
function order(cr: LiveObject, state: string, reason?: string, uid = 'order-uid'): LiveObject {
  return valid({
    apiVersion: 'acme.cert-manager.io/v1',
    kind: 'Order',
    metadata: { name: `${cr.metadata.name}-123`, namespace: 'n', uid, ownerReferences: [owner(cr)] },
    spec: { issuerRef, request: 'LS0tLS1CRUdJTg==', dnsNames: ['shop.example.com', 'www.shop.example.com'] },
    status: { state, ...(reason ? { reason } : {}), url: 'https://acme/order/1', finalizeURL: 'https://acme/finalize/1' },
  });
}
function challenge(o: LiveObject, dnsName: string, type: 'DNS-01' | 'HTTP-01', state?: string, reason?: string): LiveObject {
  return valid({
    apiVersion: 'acme.cert-manager.io/v1',
    kind: 'Challenge',
    metadata: {
      name: `${o.metadata.name}-${dnsName}`,
      namespace: 'n',
      uid: `ch-${dnsName}`,
      ownerReferences: [owner(o)],
      finalizers: ['finalizer.acme.cert-manager.io'],
    },
    spec: {
      authorizationURL: 'https://acme/authz/1',
      dnsName,
      issuerRef,
      key: `key-of-${dnsName}`,
      solver:
        type === 'DNS-01'
          ? { dns01: { acmeDNS: { host: 'https://acme-dns', accountSecretRef: { name: 's', key: 'k' } } } }
          : { http01: { ingress: {} } },
      token: 'token',
      type,
      url: 'https://acme/chall/1',
    },
    ...(state ? { status: { state, presented: state === 'pending', processing: state === 'pending', ...(reason ? { reason } : {}) } } : {}),
  });
}
const issuing = cond('Issuing', 'True', 'DoesNotExist', 'Issuing certificate as Secret does not exist', 1);
const notReady = cond('Ready', 'False', 'DoesNotExist', 'Issuing certificate as Secret does not exist', 1);
const approved = cond('Approved', 'True', 'cert-manager.io');
/** Certificate → request → order → one challenge per name, the way cert-manager has them mid-issuance. */
function chain(
  orderState: string,
  challenges: [string, 'DNS-01' | 'HTTP-01', string | undefined, string?][],
  orderReason?: string,
): CertificateChain {
  const cert = certificate({ conditions: [notReady, issuing] });
  const cr = request(cert, [approved, cond('Ready', 'False', 'Pending', 'Waiting on certificate issuance from order n/x: "pending"')]);
  const o = order(cr, orderState, orderReason);
  return {
    certificate: cert,
    certificateRequests: [cr],
    orders: [o],
    challenges: challenges.map(([name, type, state, reason]) => challenge(o, name, type, state, reason)),
  };
}

describe('customDomainState (the custom domain status from the cert-manager chain)', () => {
  it('is CREATING until cert-manager has challenges out, with what it waits for', () => {
    expect(customDomainState({ certificate: certificate() })).toEqual({
      status: 'CREATING',
      message: 'Waiting for cert-manager to request the certificate.',
    });
    const cert = certificate({ conditions: [notReady, issuing] });
    const noIssuer = request(cert, [
      approved,
      cond('Ready', 'False', 'Pending', 'Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "letsencrypt" not found'),
    ]);
    expect(customDomainState({ certificate: cert, certificateRequests: [noIssuer] })).toEqual({
      status: 'CREATING',
      message: 'Requesting the certificate: Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "letsencrypt" not found',
    });
    expect(customDomainState(chain('pending', [])).status).toBe('CREATING');
  });

  it('is PENDING_CERTIFICATE_DNS_VALIDATION while a challenge waits, naming the records (DNS-01) or the hosts (HTTP-01)', () => {
    const waiting = 'Waiting for DNS-01 challenge propagation: DNS record for "shop.example.com" not yet propagated';
    const dns = customDomainState(
      chain('pending', [
        ['shop.example.com', 'DNS-01', 'pending', waiting],
        ['www.shop.example.com', 'DNS-01', 'valid'],
      ]),
    );
    expect(dns).toEqual({
      status: 'PENDING_CERTIFICATE_DNS_VALIDATION',
      message: `Waiting for the DNS validation record (TXT _acme-challenge.<name>) of shop.example.com. cert-manager: ${waiting}`,
    });
    expect(customDomainState(chain('pending', [['shop.example.com', 'HTTP-01', undefined]]))).toEqual({
      status: 'PENDING_CERTIFICATE_DNS_VALIDATION',
      message: 'Waiting for shop.example.com to point at the service (HTTP-01 validation).',
    });
    expect(customDomainState(chain('ready', [['shop.example.com', 'DNS-01', 'valid']]))).toEqual({
      status: 'PENDING_CERTIFICATE_DNS_VALIDATION',
      message: 'The domain is validated; waiting for the certificate to be issued.',
    });
  });

  it('is CREATE_FAILED with the most specific reason: a rejected challenge, an errored order, a denied or failed request, a failed issuance', () => {
    const rejected =
      'Error accepting authorization: acme: authorization error for www.shop.example.com: 403 urn:ietf:params:acme:error:unauthorized: No TXT record found';
    const failedOrder = chain('invalid', [
      ['shop.example.com', 'DNS-01', 'valid'],
      ['www.shop.example.com', 'DNS-01', 'invalid', rejected],
    ]);
    failedOrder.certificateRequests = [
      request(failedOrder.certificate, [approved, cond('Ready', 'False', 'Failed', 'Failed to wait for order resource')]),
    ];
    failedOrder.orders = [order(failedOrder.certificateRequests[0], 'invalid')];
    failedOrder.challenges = [
      challenge(failedOrder.orders[0], 'shop.example.com', 'DNS-01', 'valid'),
      challenge(failedOrder.orders[0], 'www.shop.example.com', 'DNS-01', 'invalid', rejected),
    ];
    expect(customDomainState(failedOrder)).toEqual({
      status: 'CREATE_FAILED',
      reason: `Certificate validation failed for www.shop.example.com: ${rejected}`,
    });

    expect(customDomainState(chain('errored', [], 'Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited'))).toEqual({
      status: 'CREATE_FAILED',
      reason: 'The ACME order for the certificate is errored: Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited',
    });

    const cert = certificate({ conditions: [notReady, issuing] });
    const denied = request(cert, [
      cond('Denied', 'True', 'policy.cert-manager.io', 'no policy allows example.org'),
      cond('Ready', 'False', 'Denied', 'The CertificateRequest was denied by an approval controller'),
    ]);
    expect(customDomainState({ certificate: cert, certificateRequests: [denied] })).toEqual({
      status: 'CREATE_FAILED',
      reason: 'The certificate request was denied: no policy allows example.org',
    });
    const failed = request(cert, [
      approved,
      cond('Ready', 'False', 'Failed', 'The CSR PEM requests a commonName that is not present in the list of dnsNames'),
    ]);
    expect(customDomainState({ certificate: cert, certificateRequests: [failed] })).toEqual({
      status: 'CREATE_FAILED',
      reason: 'The certificate request failed: The CSR PEM requests a commonName that is not present in the list of dnsNames',
    });
    const gaveUp = certificate({
      conditions: [
        notReady,
        cond('Issuing', 'False', 'Failed', 'The certificate request has failed to complete and will be retried: x', 1),
      ],
      lastFailureTime: T,
      failedIssuanceAttempts: 1,
    });
    expect(customDomainState({ certificate: gaveUp })).toEqual({
      status: 'CREATE_FAILED',
      reason: 'The certificate could not be issued: The certificate request has failed to complete and will be retried: x',
    });
  });

  it('is BINDING_CERTIFICATE once the certificate is Ready for the current spec, ACTIVE once the Ingress is served', () => {
    const ready = certificate({
      conditions: [cond('Ready', 'True', 'Ready', 'Certificate is up to date and has not expired', 1)],
      revision: 1,
    });
    expect(customDomainState({ certificate: ready }).status).toBe('BINDING_CERTIFICATE');
    const ingress = (ip?: string): LiveObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i' },
      status: { loadBalancer: ip ? { ingress: [{ ip }] } : {} },
    });
    expect(customDomainState({ certificate: ready }, ingress())).toEqual({
      status: 'BINDING_CERTIFICATE',
      message: 'The certificate is issued; waiting for the ingress controller to serve the domain.',
    });
    expect(customDomainState({ certificate: ready }, ingress('192.0.2.10'))).toEqual({ status: 'ACTIVE' });
    // Ready for an older spec is not ready
    const stale = certificate({ conditions: [cond('Ready', 'True', 'Ready', 'Certificate is up to date', 1)], revision: 1 }, 2);
    expect(customDomainState({ certificate: stale }).status).toBe('CREATING');
  });

  it('follows ownership and the revision being issued: other certificates’ objects and earlier issuances do not count', () => {
    // revision 1 was issued and failed before; the spec changed (generation 2) and revision 2 is in flight
    const cert = certificate(
      { conditions: [cond('Ready', 'True', 'Ready', 'old', 1), cond('Issuing', 'True', 'Reissuing', 'x', 2)], revision: 1 },
      2,
    );
    const old = request(cert, [approved, cond('Ready', 'False', 'Failed', 'old failure')], '1', 'old-cr');
    const current = request(cert, [approved, cond('Ready', 'False', 'Pending', 'waiting')], '2', 'new-cr');
    const currentOrder = order(current, 'pending', undefined, 'new-order');
    const otherCert = { ...cert, metadata: { ...cert.metadata, uid: 'someone-else' } };
    const foreign = order(request(otherCert, [approved], '2', 'foreign-cr'), 'errored', 'not ours', 'foreign-order');
    const result = customDomainState({
      certificate: cert,
      certificateRequests: [old, current],
      orders: [foreign, currentOrder],
      challenges: [
        challenge(foreign, 'shop.example.com', 'DNS-01', 'invalid', 'not ours'),
        challenge(currentOrder, 'shop.example.com', 'DNS-01', 'pending'),
      ],
    });
    expect(result.status).toBe('PENDING_CERTIFICATE_DNS_VALIDATION');
  });
});

describe('certificateValidationRecords (what the tenant must create, with statuses)', () => {
  const cname = (name: string, Status: ValidationRecord['Status'] = 'PENDING_VALIDATION'): ValidationRecord => ({
    Name: `_acme-challenge.${name}.`,
    Type: 'CNAME',
    Value: `${name}.acme.platform.test.`,
    Status,
  });

  it('adds a TXT record per DNS-01 challenge (the key) and gives every record the status of its name’s challenge', () => {
    const stored = [
      cname('shop.example.com'),
      cname('www.shop.example.com'),
      { Name: '_acme-challenge.shop.example.com.', Type: 'TXT', Value: 'an-older-key', Status: 'FAILED' },
    ];
    const records = certificateValidationRecords(
      stored,
      chain('pending', [
        ['shop.example.com', 'DNS-01', 'valid'],
        ['www.shop.example.com', 'DNS-01', 'pending'],
      ]),
    );
    expect(records).toEqual([
      cname('shop.example.com', 'SUCCESS'),
      cname('www.shop.example.com', 'PENDING_VALIDATION'),
      { Name: '_acme-challenge.shop.example.com.', Type: 'TXT', Value: 'key-of-shop.example.com', Status: 'SUCCESS' },
      { Name: '_acme-challenge.www.shop.example.com.', Type: 'TXT', Value: 'key-of-www.shop.example.com', Status: 'PENDING_VALIDATION' },
    ]);
    const rejected = certificateValidationRecords(
      stored,
      chain('invalid', [
        ['shop.example.com', 'DNS-01', 'invalid', 'no TXT record'],
        ['www.shop.example.com', 'DNS-01', 'expired'],
      ]),
    );
    expect(rejected.map((r) => `${r.Type} ${r.Status}`)).toEqual(['CNAME FAILED', 'CNAME FAILED', 'TXT FAILED', 'TXT FAILED']);
  });

  it('has no record to create for HTTP-01 (the CNAMEs only follow its state), and keeps the stored records when nothing is in flight', () => {
    const stored = [cname('shop.example.com')];
    expect(certificateValidationRecords(stored, chain('pending', [['shop.example.com', 'HTTP-01', 'valid']]))).toEqual([
      cname('shop.example.com', 'SUCCESS'),
    ]);
    expect(certificateValidationRecords(stored, { certificate: certificate() })).toEqual(stored);
  });

  it('is all SUCCESS once the certificate is Ready, and drops what is not a record from the stored JSON', () => {
    const ready = certificate({ conditions: [cond('Ready', 'True', 'Ready', 'ok', 1)], revision: 1 });
    const stored: unknown = [
      cname('shop.example.com'),
      { Name: '_acme-challenge.shop.example.com.', Type: 'TXT', Value: 'k', Status: 'PENDING_VALIDATION' },
      'junk',
      { Name: 'x', Status: 'WHATEVER' },
    ];
    expect(certificateValidationRecords(stored, { certificate: ready }).map((r) => `${r.Type} ${r.Status}`)).toEqual([
      'CNAME SUCCESS',
      'TXT SUCCESS',
    ]);
    expect(certificateValidationRecords({ not: 'an array' }, { certificate: ready })).toEqual([]);
  });
});
