import { parseValidationRecords, type ValidationRecord } from '@apprunner/operation';
import type { LiveObject } from './kube-client';

/** What a Deployment's status says about its latest rollout (kubectl rollout status's rules). */
export type RolloutState = { state: 'complete' } | { state: 'progressing'; message: string } | { state: 'failed'; reason: string };

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

/** Waiting reasons that mean the new pods will not come up without a change of spec. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * Evaluates a rollout as `kubectl rollout status` does: the controller has seen the latest generation, every
 * replica runs the new template and is available, and Progressing has not hit its deadline. `pods` (the new
 * ReplicaSet's pods) only refine the failure reason shown to the tenant.
 */
export function rolloutState(deployment: LiveObject, pods: LiveObject[] = []): RolloutState {
  const spec = deployment.spec as { replicas?: number } | undefined;
  const status = (deployment.status ?? {}) as DeploymentStatus;
  const generation = deployment.metadata.generation ?? 0;
  const desired = spec?.replicas ?? 1;
  if ((status.observedGeneration ?? 0) < generation)
    return { state: 'progressing', message: 'Waiting for the deployment controller to observe the new spec.' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    // the deployment controller's message ends with a period already ("... has timed out progressing.")
    const detail = (progressing.message ?? 'progress deadline exceeded').replace(/\.+$/, '');
    return { state: 'failed', reason: failureReason(pods) ?? `The new version did not become healthy in time: ${detail}.` };
  }
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) return { state: 'progressing', message: `${updated} of ${desired} instances updated.` };
  if (total > updated) return { state: 'progressing', message: `${total - updated} old instances pending termination.` };
  if (available < updated) return { state: 'progressing', message: `${available} of ${updated} updated instances available.` };
  return { state: 'complete' };
}

/** The first fatal container state among pods, phrased for the tenant (e.g. "ImagePullBackOff: ..."). */
export function failureReason(pods: LiveObject[]): string | undefined {
  for (const pod of pods) {
    const statuses = ((pod.status as { containerStatuses?: unknown[] } | undefined)?.containerStatuses ?? []) as {
      name: string;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
      lastState?: { terminated?: { reason?: string; exitCode?: number } };
    }[];
    for (const cs of statuses) {
      const waiting = cs.state?.waiting;
      if (waiting?.reason && FATAL_WAITING.has(waiting.reason)) {
        const last = cs.lastState?.terminated;
        const exit = last ? ` (last exit: ${last.reason ?? 'Error'}, code ${last.exitCode ?? '?'})` : '';
        return `${waiting.reason}: ${waiting.message ?? 'the container did not start'}${exit}`;
      }
    }
    const ready = (
      (pod.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined)?.conditions ?? []
    ).find((c) => c.type === 'Ready');
    if (ready && ready.status === 'False' && /health|probe/i.test(ready.message ?? '')) return `Health check failed: ${ready.message}`;
  }
  return undefined;
}

// ---- custom domains: the cert-manager chain ------------------------------------------------------------------

/**
 * A custom domain's Certificate and what cert-manager made for it: CertificateRequests (owned by the Certificate),
 * ACME Orders (owned by a request) and Challenges (owned by an Order). The lists may hold other objects of the
 * namespace: ownership is followed here, by uid.
 */
export interface CertificateChain {
  certificate: LiveObject;
  certificateRequests?: LiveObject[];
  orders?: LiveObject[];
  challenges?: LiveObject[];
}

/** A custom domain's status as App Runner names it (DELETING and DELETE_FAILED are about disassociation). */
export type CustomDomainState =
  | { status: 'CREATING' | 'PENDING_CERTIFICATE_DNS_VALIDATION' | 'BINDING_CERTIFICATE'; message: string }
  | { status: 'ACTIVE' }
  | { status: 'CREATE_FAILED'; reason: string };

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

const FAILED_ACME_STATES = new Set(['invalid', 'errored', 'expired']);
const REVISION_ANNOTATION = 'cert-manager.io/certificate-revision';

function conditions(o: LiveObject | undefined): Condition[] {
  return ((o?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter((c) => typeof c?.type === 'string');
}
function acmeStatus(o: LiveObject): { state?: string; reason?: string; presented?: boolean } {
  return (o.status ?? {}) as { state?: string; reason?: string; presented?: boolean };
}
function challengeSpec(o: LiveObject): { type?: string; dnsName?: string; key?: string; wildcard?: boolean } {
  return (o.spec ?? {}) as { type?: string; dnsName?: string; key?: string; wildcard?: boolean };
}
function controlledBy(owner: LiveObject | undefined, o: LiveObject): boolean {
  return !!owner?.metadata.uid && (o.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === owner.metadata.uid);
}
function newest(objects: LiveObject[]): LiveObject | undefined {
  const created = (o: LiveObject) => String((o.metadata as { creationTimestamp?: unknown }).creationTimestamp ?? '');
  return [...objects].sort((a, b) => created(a).localeCompare(created(b)) || a.metadata.name.localeCompare(b.metadata.name)).at(-1);
}

/** A Certificate condition that speaks for the current spec (cert-manager stamps observedGeneration). */
function certificateCondition(certificate: LiveObject, type: string): Condition | undefined {
  const generation = certificate.metadata.generation ?? 1;
  return conditions(certificate).find((c) => c.type === type && (c.observedGeneration === undefined || c.observedGeneration >= generation));
}

function certificateReady(certificate: LiveObject): boolean {
  return certificateCondition(certificate, 'Ready')?.status === 'True';
}

/**
 * The issuance in flight: the Certificate's request for its next revision (the newest owned request when
 * requests carry no revision), that request's Order and the Order's Challenges.
 */
function currentIssuance(chain: CertificateChain): { request?: LiveObject; order?: LiveObject; challenges: LiveObject[] } {
  const next = String(((chain.certificate.status as { revision?: number } | undefined)?.revision ?? 0) + 1);
  const live = (o: LiveObject) => !o.metadata.deletionTimestamp;
  const requests = (chain.certificateRequests ?? []).filter((r) => live(r) && controlledBy(chain.certificate, r));
  const request = newest(requests.filter((r) => (r.metadata.annotations?.[REVISION_ANNOTATION] ?? next) === next));
  const order = newest((chain.orders ?? []).filter((o) => live(o) && controlledBy(request, o)));
  const challenges = (chain.challenges ?? [])
    .filter((c) => live(c) && controlledBy(order, c))
    .sort(
      (a, b) =>
        (challengeSpec(a).dnsName ?? '').localeCompare(challengeSpec(b).dnsName ?? '') || a.metadata.name.localeCompare(b.metadata.name),
    );
  return { request, order, challenges };
}

function isDns01(challenge: LiveObject): boolean {
  return (challengeSpec(challenge).type ?? '').toUpperCase() === 'DNS-01';
}
function names(challenges: LiveObject[]): string {
  return [...new Set(challenges.map((c) => challengeSpec(c).dnsName ?? '?'))].join(', ');
}

/**
 * A custom domain's status from its cert-manager chain and Ingress: any failure down the chain (a challenge the
 * ACME server rejected, an errored order, a denied or failed request, a failed issuance) is CREATE_FAILED with the
 * most specific reason; pending challenges are PENDING_CERTIFICATE_DNS_VALIDATION; before that CREATING; a Ready
 * certificate is BINDING_CERTIFICATE until the Ingress has a load balancer address, then ACTIVE.
 */
export function customDomainState(chain: CertificateChain, ingress?: LiveObject): CustomDomainState {
  if (certificateReady(chain.certificate)) {
    const served = ((ingress?.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? []).length > 0;
    if (served) return { status: 'ACTIVE' };
    return {
      status: 'BINDING_CERTIFICATE',
      message: ingress
        ? 'The certificate is issued; waiting for the ingress controller to serve the domain.'
        : 'The certificate is issued; routing the domain to the service.',
    };
  }
  const { request, order, challenges } = currentIssuance(chain);

  const rejected = challenges.filter((c) => FAILED_ACME_STATES.has(acmeStatus(c).state ?? ''));
  if (rejected.length > 0) {
    const reasons = [...new Set(rejected.map((c) => acmeStatus(c).reason).filter(Boolean))].join('; ');
    return {
      status: 'CREATE_FAILED',
      reason: `Certificate validation failed for ${names(rejected)}: ${reasons || `the challenge is ${acmeStatus(rejected[0]).state}`}`,
    };
  }
  const orderState = order ? acmeStatus(order) : undefined;
  if (orderState?.state && FAILED_ACME_STATES.has(orderState.state)) {
    return {
      status: 'CREATE_FAILED',
      reason: `The ACME order for the certificate is ${orderState.state}${orderState.reason ? `: ${orderState.reason}` : '.'}`,
    };
  }
  const requestCondition = (type: string) => conditions(request).find((c) => c.type === type);
  const denied = requestCondition('Denied');
  if (denied?.status === 'True')
    return {
      status: 'CREATE_FAILED',
      reason: `The certificate request was denied: ${denied.message ?? denied.reason ?? 'no reason given'}`,
    };
  const invalidRequest = requestCondition('InvalidRequest');
  if (invalidRequest?.status === 'True')
    return {
      status: 'CREATE_FAILED',
      reason: `The certificate request is invalid: ${invalidRequest.message ?? invalidRequest.reason ?? 'no reason given'}`,
    };
  const requestReady = requestCondition('Ready');
  if (requestReady?.status === 'False' && requestReady.reason === 'Failed')
    return { status: 'CREATE_FAILED', reason: `The certificate request failed: ${requestReady.message ?? 'no reason given'}` };
  const issuing = certificateCondition(chain.certificate, 'Issuing');
  if (issuing?.status === 'False' && (issuing.reason === 'Failed' || issuing.reason === 'Denied')) {
    return { status: 'CREATE_FAILED', reason: `The certificate could not be issued: ${issuing.message ?? 'issuance failed'}` };
  }

  if (challenges.length > 0) {
    const waiting = challenges.filter((c) => acmeStatus(c).state !== 'valid');
    if (waiting.length === 0)
      return {
        status: 'PENDING_CERTIFICATE_DNS_VALIDATION',
        message: 'The domain is validated; waiting for the certificate to be issued.',
      };
    const dns = waiting.filter(isDns01);
    const http = waiting.filter((c) => !isDns01(c));
    const parts = [
      ...(dns.length > 0 ? [`Waiting for the DNS validation record (TXT _acme-challenge.<name>) of ${names(dns)}`] : []),
      ...(http.length > 0 ? [`Waiting for ${names(http)} to point at the service (HTTP-01 validation)`] : []),
    ];
    const detail = acmeStatus(waiting[0]).reason;
    return { status: 'PENDING_CERTIFICATE_DNS_VALIDATION', message: `${parts.join('; ')}.${detail ? ` cert-manager: ${detail}` : ''}` };
  }
  const requestMessage = requestReady?.status === 'False' ? requestReady.message : undefined;
  if (requestMessage) return { status: 'CREATING', message: `Requesting the certificate: ${requestMessage}` };
  return { status: 'CREATING', message: request ? 'Requesting the certificate.' : 'Waiting for cert-manager to request the certificate.' };
}

/** App Runner's record status of one Challenge's state. */
function recordStatus(challenge: LiveObject): ValidationRecord['Status'] {
  const state = acmeStatus(challenge).state ?? '';
  return state === 'valid' ? 'SUCCESS' : FAILED_ACME_STATES.has(state) ? 'FAILED' : 'PENDING_VALIDATION';
}

/**
 * The CertificateValidationRecords of a custom domain, from its stored records and its chain: for each DNS-01
 * Challenge of the issuance in flight a TXT record `_acme-challenge.<dnsName>.` = `spec.key` (the stored TXT
 * records are replaced by these); other stored records (the platform's CNAME delegations) keep their place and
 * take the status of the challenges for the same name. Valid → SUCCESS, invalid/errored/expired → FAILED, else
 * PENDING_VALIDATION; a Ready certificate makes every record SUCCESS. No challenges: nothing new, the stored records.
 */
export function certificateValidationRecords(storedJson: unknown, chain: CertificateChain): ValidationRecord[] {
  const stored = parseValidationRecords(storedJson);
  if (certificateReady(chain.certificate)) return stored.map((r) => ({ ...r, Status: 'SUCCESS' }));
  const { challenges } = currentIssuance(chain);
  if (challenges.length === 0) return stored;
  const byName = new Map<string, ValidationRecord['Status']>();
  const txt: ValidationRecord[] = [];
  const rank = { FAILED: 2, PENDING_VALIDATION: 1, SUCCESS: 0 } as const;
  for (const challenge of challenges) {
    const spec = challengeSpec(challenge);
    if (!spec.dnsName) continue;
    const name = `_acme-challenge.${spec.dnsName}.`;
    const status = recordStatus(challenge);
    const known = byName.get(name);
    if (!known || rank[status] > rank[known]) byName.set(name, status);
    if (isDns01(challenge) && spec.key) txt.push({ Name: name, Type: 'TXT', Value: spec.key, Status: status });
  }
  const kept = stored.filter((r) => r.Type !== 'TXT').map((r) => ({ ...r, Status: byName.get(r.Name) ?? r.Status }));
  return [...kept, ...txt];
}
