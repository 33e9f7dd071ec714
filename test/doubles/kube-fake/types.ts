/**
 * Shared JSON/object types, small type guards and the Kubernetes `Status` error model used by every
 * part of the fake API server.
 */

/** A JSON object as decoded from a request body. */
export type JsonObject = { [key: string]: unknown };

/** Kubernetes object metadata, loosely typed (everything the fake reads or writes). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
  subresource?: string;
}

/** Any Kubernetes object held by the fake. `metadata` is always present once stored. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isKubeObject(value: unknown): value is KubeObject {
  return isRecord(value) && typeof value.apiVersion === 'string' && typeof value.kind === 'string' && isRecord(value.metadata);
}

export function asRecord(value: unknown): JsonObject {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Deep copy of a JSON value (objects here never hold functions, dates or cycles). */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Structural equality for JSON values; object key order is irrelevant. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Kubernetes timestamps are RFC 3339 with second precision: `2024-05-01T12:00:00Z`. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `group/version` or plain `version` for the core group. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** One entry of `Status.details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** The body of every error response, exactly as kube-apiserver shapes it. */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: JsonObject;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[] };
  /** Present on failures; kube-apiserver omits it on a successful delete. */
  code?: number;
}

/** An error that the HTTP layer turns into a `Status` response with the given code. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusBody['details'],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** Identifies a resource in error messages the way the API server does: `deployments.apps`, `pods`. */
export interface ResourceName {
  group: string;
  resource: string;
  kind: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function detailsFor(r: ResourceName, name: string): NonNullable<StatusBody['details']> {
  return r.group ? { name, group: r.group, kind: r.resource } : { name, kind: r.resource };
}

export const errors = {
  notFound(r: ResourceName, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, detailsFor(r, name));
  },
  alreadyExists(r: ResourceName, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, detailsFor(r, name));
  },
  conflict(
    r: ResourceName,
    name: string,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ): ApiError {
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, detailsFor(r, name));
  },
  invalid(r: ResourceName, name: string, causes: StatusCause[]): ApiError {
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ');
    const kind = r.group ? `${r.kind}.${r.group}` : r.kind;
    const details = { ...(r.group ? { group: r.group } : {}), name, kind: r.kind, causes };
    const message = causes.length === 1 ? `${kind} "${name}" is invalid: ${summary}` : `${kind} "${name}" is invalid: [${summary}]`;
    return new ApiError(422, 'Invalid', message, details);
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  },
  unsupportedMediaType(what: string): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (${what})`,
    );
  },
  gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  forbidden(r: ResourceName, name: string, why: string): ApiError {
    return new ApiError(403, 'Forbidden', `${qualified(r)} "${name}" is forbidden: ${why}`, detailsFor(r, name));
  },
  notFoundPath(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
};

/** `Status` body for a successful immediate delete. */
export function successStatus(r: ResourceName, name: string, uid: string | undefined): StatusBody {
  const details: NonNullable<StatusBody['details']> = { ...detailsFor(r, name) };
  if (uid) details.uid = uid;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

/** The verbs of RBAC resource rules, which is also how requests are classified. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** One HTTP request the fake served. */
export interface CallRecord {
  verb: Verb;
  method: string;
  /** Request path without the query string. */
  path: string;
  /** `group/version` (or `v1` for core) of the request path. */
  apiVersion: string;
  group: string;
  /** REST resource (`deployments`); empty for discovery and other non-resource paths. */
  resource: string;
  /** Kind served by that resource; empty when the resource is unknown. */
  kind: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Content-Type of a PATCH. */
  patchType?: string;
  /** Who asked: the bearer token of the request (`system:anonymous` without one), as RBAC would see the user. */
  user: string;
  /** `?fieldManager=` when the client sent one. */
  fieldManager?: string;
  dryRun?: boolean;
  /** Discovery (`/api`, `/apis/...` without a resource), `/version`, health checks: not a resource request. */
  discovery?: boolean;
  /** HTTP status code of the response. */
  status: number;
  /** Time of the request per the fake's clock (ms since the epoch). */
  at: number;
}
