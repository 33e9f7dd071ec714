/**
 * cert-manager as the simulator runs it: the certificates controllers (trigger, request manager, issuing,
 * readiness), the approver, the CertificateRequest issuers (ACME; any other issuer signs at once), and the ACME
 * orders and challenges controllers against a simulated ACME server. The objects are those cert-manager v1 writes:
 *
 *   Certificate ─owns→ CertificateRequest `<certificate>-<random>` (the Certificate's labels; annotations
 *     cert-manager.io/certificate-name, certificate-revision, private-key-secret-name)
 *   ─owns→ Order `<request>-<hash>` (ACME issuers only; the request's labels and annotations)
 *   ─owns→ Challenge `<order>-<hash>`, one per authorization (no labels; `spec.type` HTTP-01 or DNS-01 after the
 *     issuer's first solver that can solve it, `spec.key`, `spec.dnsName`; finalizer `finalizer.acme.cert-manager.io`)
 *
 * How an issuance ends is scripted per Certificate (`IssuanceScript`); unscripted, challenges are presented in one
 * step and valid in the next. A missing issuer leaves the request Pending, as cert-manager does.
 */
import { createHash } from 'node:crypto';
import type { FakeStore } from './store';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  clone,
  formatTime,
  isRecord,
  type JsonObject,
  type KubeObject,
  type OwnerReference,
} from './types';
import { fnv32a } from './workloads';

/** How the next issuance of a Certificate ends. */
export type IssuanceScript =
  /** The ACME server validates the challenges (the default). */
  | { outcome: 'valid' }
  /**
   * The challenges stay pending, e.g. while the tenant's DNS record is missing (other issuers: the request waits);
   * with `names`, only the challenges of those DNS names do and the others validate.
   */
  | { outcome: 'pending'; names?: string[] }
  /** The ACME server rejects the challenges with `reason` (other issuers: the request fails with it). */
  | { outcome: 'invalid'; reason?: string }
  /** The ACME order errors before any challenge exists (e.g. rate limits). */
  | { outcome: 'errored'; reason?: string }
  /** An approver denies the CertificateRequest. */
  | { outcome: 'denied'; reason?: string };

/** Writes through the API request path (validated, field manager of the simulator). */
export interface ControllerWrites {
  now(): Date;
  create(obj: KubeObject): Promise<KubeObject>;
  update(obj: KubeObject): Promise<KubeObject>;
  writeStatus(obj: KubeObject, status: JsonObject): Promise<void>;
  remove(obj: KubeObject): Promise<void>;
}

type Guard = (fn: () => Promise<void>) => Promise<void>;

const CM = 'cert-manager.io';
const ACME = 'acme.cert-manager.io';
export const CERTIFICATE_NAME = 'cert-manager.io/certificate-name';
export const CERTIFICATE_REVISION = 'cert-manager.io/certificate-revision';
const PRIVATE_KEY_SECRET = 'cert-manager.io/private-key-secret-name';
const CHALLENGE_FINALIZER = 'finalizer.acme.cert-manager.io';
const FAILED_STATES = new Set(['invalid', 'errored', 'expired']);
const FINAL_STATES = new Set(['valid', ...FAILED_STATES]);

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** cert-manager's SetCondition: replaces in place, keeps lastTransitionTime while the status is unchanged. */
function setCondition(conditions: JsonObject[], next: Condition, time: string, observedGeneration?: number): JsonObject[] {
  const current = conditions.find((c) => c.type === next.type);
  const entry: JsonObject = {
    type: next.type,
    status: next.status,
    lastTransitionTime: current && current.status === next.status ? current.lastTransitionTime : time,
    reason: next.reason,
    message: next.message,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  return current ? conditions.map((c) => (c === current ? entry : c)) : [...conditions, entry];
}

function conditionsOf(obj: KubeObject | undefined): JsonObject[] {
  return asArray(asRecord(obj?.status).conditions).filter(isRecord);
}

function condition(obj: KubeObject | undefined, type: string): JsonObject | undefined {
  return conditionsOf(obj).find((c) => c.type === type);
}

/** cert-manager's DNSSafeShortenTo52Characters: at most 52 characters, not ending in '-' or '.'. */
function shorten(name: string): string {
  return name.slice(0, 52).replace(/[-.]+$/, '');
}

/** cert-manager's apiutil.ComputeName: `<prefix, shortened>-<FNV-32a of the object>`. */
function computeName(prefix: string, obj: unknown): string {
  return `${shorten(prefix)}-${fnv32a(JSON.stringify(obj))}`;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

function sha256(data: string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A PEM block as bytes in JSON (`[]byte` fields are base64). Content is fake: nothing parses it. */
function pemBytes(label: string, body: string): string {
  return Buffer.from(`-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`).toString('base64');
}

export class CertManagerSimulation {
  private readonly scripts = new Map<string, IssuanceScript>();
  /** Certificates whose failed issuance is retried on the next sync (cert-manager retries after a back-off). */
  private readonly retries = new Set<string>();

  constructor(
    private readonly store: FakeStore,
    private readonly api: ControllerWrites,
    private readonly served: (group: string, kind: string) => boolean,
  ) {}

  /** Scripts a Certificate's issuance (namespace omitted: that name in any namespace). */
  script(name: string, namespace: string | undefined, script: IssuanceScript): void {
    const key = namespace ? `${namespace}/${name}` : name;
    if (script.outcome === 'valid') this.scripts.delete(key);
    else this.scripts.set(key, script);
  }

  /** Back to the default script, and a failed issuance is tried again. */
  heal(name: string, namespace?: string): void {
    this.script(name, namespace, { outcome: 'valid' });
    this.retries.add(namespace ? `${namespace}/${name}` : name);
  }

  /** One pass of every cert-manager controller, issuers first, down the chain to the challenges. */
  async sync(guard: Guard): Promise<void> {
    const each = async (group: string, kind: string, fn: (o: KubeObject) => Promise<void>) => {
      if (!this.served(group, kind)) return;
      for (const o of this.store.items(group, kind)) await guard(() => fn(clone(o)));
    };
    await each(CM, 'Issuer', (o) => this.syncIssuer(o));
    await each(CM, 'ClusterIssuer', (o) => this.syncIssuer(o));
    await each(CM, 'Certificate', (o) => this.syncCertificate(o));
    await each(CM, 'CertificateRequest', (o) => this.syncRequest(o));
    await each(ACME, 'Order', (o) => this.syncOrder(o));
    await each(ACME, 'Challenge', (o) => this.syncChallenge(o));
  }

  // ---- lookups ------------------------------------------------------------------------------------------------

  private scriptFor(namespace: string | undefined, certificateName: string | undefined): IssuanceScript {
    if (!certificateName) return { outcome: 'valid' };
    return this.scripts.get(`${namespace ?? ''}/${certificateName}`) ?? this.scripts.get(certificateName) ?? { outcome: 'valid' };
  }

  private owned(owner: KubeObject, group: string, kind: string): KubeObject[] {
    if (!this.served(group, kind)) return [];
    return this.store
      .items(group, kind, owner.metadata.namespace)
      .filter((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid));
  }

  private controllerOf(obj: KubeObject, group: string, kind: string): KubeObject | undefined {
    const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === kind);
    const found = ref ? this.store.find(group, kind, obj.metadata.namespace, ref.name) : undefined;
    return found && found.metadata.uid === ref?.uid ? found : undefined;
  }

  private issuerOf(obj: KubeObject): { issuer?: KubeObject; kind: string; name: string } {
    const ref = asRecord(asRecord(obj.spec).issuerRef);
    const kind = asString(ref.kind) ?? 'Issuer';
    const name = asString(ref.name) ?? '';
    const issuer =
      kind === 'ClusterIssuer'
        ? this.store.find(CM, 'ClusterIssuer', undefined, name)
        : this.store.find(CM, 'Issuer', obj.metadata.namespace, name);
    return { issuer, kind, name };
  }

  private ownerRef(owner: KubeObject): OwnerReference {
    return {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.metadata.name ?? '',
      uid: owner.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
  }

  // ---- issuers ------------------------------------------------------------------------------------------------

  private async syncIssuer(issuer: KubeObject): Promise<void> {
    const spec = asRecord(issuer.spec);
    const [reason, message] = isRecord(spec.acme)
      ? ['ACMEAccountRegistered', 'The ACME account was registered with the ACME server']
      : isRecord(spec.ca)
        ? ['KeyPairVerified', 'Signing CA verified']
        : ['IsReady', ''];
    const time = formatTime(this.api.now());
    const conditions = setCondition(
      conditionsOf(issuer),
      { type: 'Ready', status: 'True', reason, message },
      time,
      issuer.metadata.generation ?? 1,
    );
    await this.api.writeStatus(issuer, { ...asRecord(issuer.status), conditions });
  }

  // ---- Certificates: trigger, request manager, issuing and readiness controllers --------------------------------

  private async syncCertificate(cert: KubeObject): Promise<void> {
    if (cert.metadata.deletionTimestamp) return;
    const ns = cert.metadata.namespace ?? '';
    const name = cert.metadata.name ?? '';
    const key = `${ns}/${name}`;
    const generation = cert.metadata.generation ?? 1;
    const spec = asRecord(cert.spec);
    const old = asRecord(cert.status);
    const time = formatTime(this.api.now());
    const secretName = asString(spec.secretName) ?? '';
    const secret = secretName ? this.store.find('', 'Secret', ns, secretName) : undefined;
    const ready = condition(cert, 'Ready');
    if (ready?.status === 'True' && ready.observedGeneration === generation && secret) return;

    const revision = asNumber(old.revision) ?? 0;
    let requests = this.owned(cert, CM, 'CertificateRequest').filter(
      (r) => r.metadata.annotations?.[CERTIFICATE_REVISION] === String(revision + 1) && !r.metadata.deletionTimestamp,
    );
    const issuing = condition(cert, 'Issuing');
    if (issuing?.status === 'False' && issuing.observedGeneration === generation) {
      if (!this.retries.delete(key) && !this.retries.delete(name)) return;
      // a new attempt: the failed request goes, the next one is created below
      for (const r of requests) await this.api.remove(r);
      requests = [];
    }
    const request = requests
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))
      .at(-1);
    const requestReady = condition(request, 'Ready');

    if (request && requestReady?.status === 'True') {
      if (!secret) await this.api.create(this.tlsSecret(cert, asString(asRecord(request.status).certificate) ?? ''));
      const issued = this.api.now();
      const day = 24 * 3600 * 1000;
      const conditions = setCondition(
        conditionsOf(cert).filter((c) => c.type !== 'Issuing'),
        { type: 'Ready', status: 'True', reason: 'Ready', message: 'Certificate is up to date and has not expired' },
        time,
        generation,
      );
      await this.api.writeStatus(cert, {
        conditions,
        notBefore: formatTime(issued),
        notAfter: formatTime(new Date(issued.getTime() + 90 * day)),
        renewalTime: formatTime(new Date(issued.getTime() + 60 * day)),
        revision: revision + 1,
      });
      return;
    }
    if (request && (requestReady?.reason === 'Failed' || requestReady?.reason === 'Denied')) {
      const cause = requestReady.reason === 'Denied' ? condition(request, 'Denied') : requestReady;
      const conditions = setCondition(
        conditionsOf(cert),
        {
          type: 'Issuing',
          status: 'False',
          reason: 'Failed',
          message: `The certificate request has failed to complete and will be retried: ${asString(cause?.message) ?? ''}`,
        },
        time,
        generation,
      );
      const { nextPrivateKeySecretName: _next, ...rest } = old;
      await this.api.writeStatus(cert, {
        ...rest,
        conditions,
        lastFailureTime: time,
        failedIssuanceAttempts: (asNumber(old.failedIssuanceAttempts) ?? 0) + 1,
      });
      return;
    }

    // Issuing: Issuing=True, Ready=False while there is no (matching) Secret, and a request for the next revision.
    const [reason, message] = secret
      ? ['SecretMismatch', 'Issuing certificate as Secret does not match the Certificate spec']
      : ['DoesNotExist', 'Issuing certificate as Secret does not exist'];
    const nextKey =
      asString(old.nextPrivateKeySecretName) ??
      `${shorten(name)}-${
        base64url(sha256(`${cert.metadata.uid}/${revision + 1}`))
          .replace(/[^a-z0-9]/g, '')
          .slice(0, 5) || 'key'
      }`;
    let conditions = setCondition(conditionsOf(cert), { type: 'Issuing', status: 'True', reason, message }, time, generation);
    if (!secret) conditions = setCondition(conditions, { type: 'Ready', status: 'False', reason, message }, time, generation);
    const { lastFailureTime: _lf, ...keep } = old;
    await this.api.writeStatus(cert, { ...keep, conditions, nextPrivateKeySecretName: nextKey });
    if (!request) await this.api.create(this.requestFor(cert, revision + 1, nextKey));
  }

  private requestFor(cert: KubeObject, revision: number, privateKeySecret: string): KubeObject {
    const spec = asRecord(cert.spec);
    return {
      apiVersion: `${CM}/v1`,
      kind: 'CertificateRequest',
      metadata: {
        generateName: `${shorten(cert.metadata.name ?? '')}-`,
        namespace: cert.metadata.namespace,
        ...(cert.metadata.labels ? { labels: { ...cert.metadata.labels } } : {}),
        annotations: {
          [CERTIFICATE_NAME]: cert.metadata.name ?? '',
          [CERTIFICATE_REVISION]: String(revision),
          [PRIVATE_KEY_SECRET]: privateKeySecret,
        },
        ownerReferences: [this.ownerRef(cert)],
      },
      spec: {
        issuerRef: clone(asRecord(spec.issuerRef)),
        request: pemBytes('CERTIFICATE REQUEST', JSON.stringify({ dnsNames: asArray(spec.dnsNames) })),
        usages: ['digital signature', 'key encipherment'],
      },
    };
  }

  private tlsSecret(cert: KubeObject, certificate: string): KubeObject {
    const spec = asRecord(cert.spec);
    const dnsNames = asArray(spec.dnsNames).map(String);
    const issuerRef = asRecord(spec.issuerRef);
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: asString(spec.secretName) ?? '',
        namespace: cert.metadata.namespace,
        labels: { 'controller.cert-manager.io/fao': 'true' },
        annotations: {
          [CERTIFICATE_NAME]: cert.metadata.name ?? '',
          'cert-manager.io/alt-names': dnsNames.join(','),
          'cert-manager.io/common-name': asString(spec.commonName) ?? dnsNames[0] ?? '',
          'cert-manager.io/issuer-name': asString(issuerRef.name) ?? '',
          'cert-manager.io/issuer-kind': asString(issuerRef.kind) ?? 'Issuer',
          'cert-manager.io/issuer-group': CM,
        },
      },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': certificate || pemBytes('CERTIFICATE', 'fake'),
        'tls.key': pemBytes('PRIVATE KEY', 'fake'),
        'ca.crt': pemBytes('CERTIFICATE', 'fake-ca'),
      },
    };
  }

  // ---- CertificateRequests: approver and issuers ------------------------------------------------------------------

  private async syncRequest(cr: KubeObject): Promise<void> {
    if (cr.metadata.deletionTimestamp) return;
    const ready = condition(cr, 'Ready');
    if (ready?.status === 'True' || ready?.reason === 'Failed' || ready?.reason === 'Denied') return;
    const ns = cr.metadata.namespace ?? '';
    const script = this.scriptFor(ns, cr.metadata.annotations?.[CERTIFICATE_NAME]);
    const time = formatTime(this.api.now());
    const old = asRecord(cr.status);
    let conditions = conditionsOf(cr);

    if (!condition(cr, 'Approved') && !condition(cr, 'Denied')) {
      if (script.outcome === 'denied') {
        conditions = setCondition(
          conditions,
          { type: 'Denied', status: 'True', reason: 'policy.cert-manager.io', message: script.reason ?? 'No policy approved this request' },
          time,
        );
        conditions = setCondition(
          conditions,
          { type: 'Ready', status: 'False', reason: 'Denied', message: 'The CertificateRequest was denied by an approval controller' },
          time,
        );
        await this.api.writeStatus(cr, { ...old, conditions, failureTime: time });
        return;
      }
      conditions = setCondition(
        conditions,
        {
          type: 'Approved',
          status: 'True',
          reason: 'cert-manager.io',
          message: 'Certificate request has been approved by cert-manager.io',
        },
        time,
      );
    }

    const { issuer, kind, name } = this.issuerOf(cr);
    let next: Condition;
    const extra: JsonObject = {};
    if (!issuer) {
      next = {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: `Referenced "${kind}" not found: ${kind.toLowerCase()}.cert-manager.io "${name}" not found`,
      };
    } else if (isRecord(asRecord(issuer.spec).acme)) {
      let order = this.owned(cr, ACME, 'Order').at(-1);
      const state = asString(asRecord(order?.status).state);
      if (!order) {
        const built = this.orderFor(cr);
        if (!built) return; // the Certificate is gone; garbage collection takes the request
        order = await this.api.create(built);
        next = { type: 'Ready', status: 'False', reason: 'Pending', message: `Created Order resource ${ns}/${order.metadata.name ?? ''}` };
      } else if (state && FAILED_STATES.has(state)) {
        next = {
          type: 'Ready',
          status: 'False',
          reason: 'Failed',
          message: `Failed to wait for order resource "${order.metadata.name ?? ''}" to become ready: order is in "${state}" state: ${asString(asRecord(order.status).reason) ?? ''}`,
        };
        extra.failureTime = time;
      } else if (state === 'valid' && asString(asRecord(order.status).certificate)) {
        next = { type: 'Ready', status: 'True', reason: 'Issued', message: 'Certificate fetched from issuer successfully' };
        extra.certificate = asString(asRecord(order.status).certificate);
      } else {
        next = {
          type: 'Ready',
          status: 'False',
          reason: 'Pending',
          message: `Waiting on certificate issuance from order ${ns}/${order.metadata.name ?? ''}: "${state ?? ''}"`,
        };
      }
    } else if (script.outcome === 'invalid' || script.outcome === 'errored') {
      next = {
        type: 'Ready',
        status: 'False',
        reason: 'Failed',
        message: script.reason ?? 'The issuer could not sign the request: simulated issuance failure',
      };
      extra.failureTime = time;
    } else if (script.outcome === 'pending') {
      next = { type: 'Ready', status: 'False', reason: 'Pending', message: `Waiting for ${kind} "${name}" to sign the request` };
    } else {
      next = { type: 'Ready', status: 'True', reason: 'Issued', message: 'Certificate fetched from issuer successfully' };
      extra.certificate = pemBytes('CERTIFICATE', `issued by ${kind}/${name}`);
    }
    conditions = setCondition(conditions, next, time);
    await this.api.writeStatus(cr, { ...old, conditions, ...extra });
  }

  /** The Order of an ACME request (names from the Certificate: nothing parses the fake CSR). */
  private orderFor(cr: KubeObject): KubeObject | undefined {
    const cert = this.controllerOf(cr, CM, 'Certificate');
    if (!cert) return undefined;
    const certSpec = asRecord(cert.spec);
    const spec: JsonObject = {
      issuerRef: clone(asRecord(asRecord(cr.spec).issuerRef)),
      ...(asString(certSpec.commonName) ? { commonName: certSpec.commonName } : {}),
      dnsNames: asArray(certSpec.dnsNames).map(String),
    };
    return {
      apiVersion: `${ACME}/v1`,
      kind: 'Order',
      metadata: {
        name: computeName(cr.metadata.name ?? '', spec),
        namespace: cr.metadata.namespace,
        ...(cr.metadata.labels ? { labels: { ...cr.metadata.labels } } : {}),
        ...(cr.metadata.annotations ? { annotations: { ...cr.metadata.annotations } } : {}),
        ownerReferences: [this.ownerRef(cr)],
      },
      spec: { ...spec, request: asString(asRecord(cr.spec).request) ?? '' },
    };
  }

  // ---- ACME orders and challenges -----------------------------------------------------------------------------

  private async syncOrder(order: KubeObject): Promise<void> {
    if (order.metadata.deletionTimestamp) return;
    const status = asRecord(order.status);
    const state = asString(status.state);
    if (state && FAILED_STATES.has(state)) return;
    const challenges = this.owned(order, ACME, 'Challenge');
    if (state === 'valid') {
      // completed: cert-manager cleans up the challenges
      for (const ch of challenges) if (!ch.metadata.deletionTimestamp) await this.api.remove(ch);
      return;
    }
    const time = formatTime(this.api.now());
    const script = this.scriptFor(order.metadata.namespace, order.metadata.annotations?.[CERTIFICATE_NAME]);
    const { issuer } = this.issuerOf(order);
    const acme = asRecord(asRecord(issuer?.spec).acme);
    const origin = (() => {
      try {
        return new URL(asString(acme.server) ?? '').origin;
      } catch {
        return 'https://acme.invalid';
      }
    })();
    const id = base64url(sha256(order.metadata.uid ?? '')).slice(0, 16);

    if (!asString(status.url)) {
      if (script.outcome === 'errored') {
        const names = asArray(asRecord(order.spec).dnsNames).map(String);
        const reason =
          script.reason ??
          `Failed to create Order: 429 urn:ietf:params:acme:error:rateLimited: too many certificates already issued for "${names[0] ?? ''}"`;
        await this.api.writeStatus(order, { ...status, state: 'errored', reason, failureTime: time });
        return;
      }
      const authorizations = asArray(asRecord(order.spec).dnsNames).map((raw, i) => {
        const name = String(raw);
        const wildcard = name.startsWith('*.');
        const identifier = wildcard ? name.slice(2) : name;
        const types = wildcard ? ['dns-01'] : ['http-01', 'dns-01'];
        return {
          url: `${origin}/acme/authz/${id}/${i}`,
          identifier,
          wildcard,
          initialState: 'pending',
          challenges: types.map((type) => ({
            type,
            url: `${origin}/acme/chall/${id}/${i}/${type}`,
            token: base64url(sha256(`${order.metadata.uid ?? ''}/${identifier}/${type}`)),
          })),
        };
      });
      await this.api.writeStatus(order, {
        ...status,
        url: `${origin}/acme/order/${id}`,
        finalizeURL: `${origin}/acme/finalize/${id}`,
        state: 'pending',
        authorizations,
      });
      return;
    }

    // one Challenge per authorization, with the issuer's first solver that can solve it
    const thumbprint = base64url(sha256(`account/${issuer?.metadata.uid ?? ''}`));
    for (const authz of asArray(status.authorizations).filter(isRecord)) {
      const wildcard = authz.wildcard === true;
      const solver = asArray(acme.solvers)
        .filter(isRecord)
        .find((s) => isRecord(s.dns01) || (isRecord(s.http01) && !wildcard));
      const offered = asArray(authz.challenges).filter(isRecord);
      const chosen = solver ? offered.find((c) => c.type === (isRecord(solver.dns01) ? 'dns-01' : 'http-01')) : undefined;
      if (!solver || !chosen || !issuer) continue; // cert-manager: "no configured challenge solvers can be used"
      const token = asString(chosen.token) ?? '';
      const dns = chosen.type === 'dns-01';
      const spec: JsonObject = {
        authorizationURL: asString(authz.url) ?? '',
        type: dns ? 'DNS-01' : 'HTTP-01',
        url: asString(chosen.url) ?? '',
        dnsName: asString(authz.identifier) ?? '',
        token,
        key: dns ? base64url(sha256(`${token}.${thumbprint}`)) : `${token}.${thumbprint}`,
        solver: clone(solver),
        ...(wildcard ? { wildcard: true } : {}),
        issuerRef: clone(asRecord(asRecord(order.spec).issuerRef)),
      };
      const name = computeName(order.metadata.name ?? '', { ...spec, key: undefined });
      if (this.store.find(ACME, 'Challenge', order.metadata.namespace, name)) continue;
      await this.api.create({
        apiVersion: `${ACME}/v1`,
        kind: 'Challenge',
        metadata: {
          name,
          namespace: order.metadata.namespace,
          finalizers: [CHALLENGE_FINALIZER],
          ownerReferences: [this.ownerRef(order)],
        },
        spec,
      });
    }

    const live = challenges.filter((c) => !c.metadata.deletionTimestamp);
    const states = live.map((c) => asString(asRecord(c.status).state) ?? '');
    if (states.some((s) => FAILED_STATES.has(s))) {
      await this.api.writeStatus(order, { ...status, state: 'invalid', failureTime: time });
    } else if (live.length > 0 && live.length === asArray(status.authorizations).length && states.every((s) => s === 'valid')) {
      const names = asArray(asRecord(order.spec).dnsNames).map(String);
      await this.api.writeStatus(order, {
        ...status,
        state: 'valid',
        certificate: pemBytes('CERTIFICATE', `issued for ${names.join(',')}`),
      });
    }
  }

  private async syncChallenge(ch: KubeObject): Promise<void> {
    if (ch.metadata.deletionTimestamp) {
      // the solver cleaned up what it presented: the finalizer goes and the Challenge with it
      if (ch.metadata.finalizers?.includes(CHALLENGE_FINALIZER))
        await this.api.update({
          ...ch,
          metadata: { ...ch.metadata, finalizers: ch.metadata.finalizers.filter((f) => f !== CHALLENGE_FINALIZER) },
        });
      return;
    }
    const status = asRecord(ch.status);
    const state = asString(status.state);
    if (state && FINAL_STATES.has(state)) return;
    const spec = asRecord(ch.spec);
    const dnsName = asString(spec.dnsName) ?? '';
    const dns = spec.type === 'DNS-01';
    if (!state) {
      const reason = dns
        ? `Waiting for DNS-01 challenge propagation: DNS record for "${dnsName}" not yet propagated`
        : `Waiting for HTTP-01 challenge propagation: wrong status code '404', expected '200'`;
      await this.api.writeStatus(ch, { processing: true, presented: true, reason, state: 'pending' });
      return;
    }
    const order = this.controllerOf(ch, ACME, 'Order');
    const script = this.scriptFor(ch.metadata.namespace, order?.metadata.annotations?.[CERTIFICATE_NAME]);
    if (script.outcome === 'pending' && (!script.names || script.names.includes(dnsName))) return;
    if (script.outcome === 'invalid') {
      const reason =
        script.reason ??
        (dns
          ? `Error accepting authorization: acme: authorization error for ${dnsName}: 403 urn:ietf:params:acme:error:unauthorized: No TXT record found at _acme-challenge.${dnsName}`
          : `Error accepting authorization: acme: authorization error for ${dnsName}: 403 urn:ietf:params:acme:error:unauthorized: Invalid response from http://${dnsName}/.well-known/acme-challenge/${asString(spec.token) ?? ''}: 404`);
      await this.api.writeStatus(ch, { processing: false, presented: false, reason, state: 'invalid' });
      return;
    }
    await this.api.writeStatus(ch, { processing: false, presented: false, reason: 'Successfully authorized domain', state: 'valid' });
  }
}
