/**
 * Request semantics, independent of HTTP: get/list/create/update/patch/apply/delete for one resource type with
 * kube-apiserver's rules (namespace existence, generateName, status subresource, resourceVersion preconditions,
 * defaulting, validation, managedFields, no-op writes, dryRun). The HTTP layer and the simulator both use it.
 *
 * Every method loads the validator for the resource first and then reads, computes and writes synchronously, so
 * concurrent requests can never interleave between the read of the live object and the write.
 */
import { parse as parseYaml } from 'yaml';
import { serverSideApply, stripNulls, updateOwnership, type WriteScope } from './apply';
import { applyDefaults } from './defaults';
import { jsonPatch, mergePatch, PATCH_TYPES, strategicMerge } from './patch';
import type { ResourceType } from './resources';
import { pruneUnknown } from './schema';
import { formatLabelSelector, parseFieldSelector, parseLabelSelector } from './selectors';
import { type FakeStore, type PropagationPolicy } from './store';
import {
  apiVersionOf,
  asRecord,
  clone,
  deepEqual,
  errors,
  formatTime,
  isKubeObject,
  isRecord,
  type JsonObject,
  type KubeObject,
  type ResourceName,
  type StatusBody,
  successStatus,
} from './types';
import type { Validator } from './validate';

/** What a request targets and how. */
export interface Target {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: 'status' | 'scale';
  dryRun?: boolean;
  /** Field manager (`?fieldManager=`, else derived from the User-Agent). */
  fieldManager: string;
  /** The client named the manager explicitly (server-side apply requires it). */
  fieldManagerGiven?: boolean;
  force?: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface DeleteOptions {
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** A write's outcome: the object to return and whether it was created (201). */
export interface WriteResult {
  object: KubeObject;
  created: boolean;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function resourceName(rt: ResourceType): ResourceName {
  return { group: rt.group, resource: rt.plural, kind: rt.kind };
}

function scopeOf(t: Target): WriteScope {
  return { statusSubresource: t.rt.status, ...(t.subresource ? { subresource: t.subresource } : {}) };
}

/** managedFields compared without their timestamps. */
function sameObject(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => ({
    ...o,
    metadata: { ...o.metadata, managedFields: (o.metadata.managedFields ?? []).map(({ time: _t, ...rest }) => rest) },
  });
  return deepEqual(strip(a), strip(b));
}

export class Operations {
  private nextClusterIP = 1;

  constructor(
    private readonly store: FakeStore,
    private readonly validator: Validator,
    private readonly now: () => Date,
  ) {}

  /** The object as served at the request's group/version. */
  present(obj: KubeObject, rt: ResourceType): KubeObject {
    return { ...clone(obj), apiVersion: apiVersionOf(rt.group, rt.version), kind: rt.kind };
  }

  private live(t: Target): KubeObject | undefined {
    return this.store.find(t.rt.group, t.rt.kind, t.rt.namespaced ? t.namespace : undefined, t.name ?? '');
  }

  private mustExist(t: Target): KubeObject {
    const found = this.live(t);
    if (!found) throw errors.notFound(resourceName(t.rt), t.name ?? '');
    return found;
  }

  async get(t: Target): Promise<KubeObject> {
    const obj = this.mustExist(t);
    return t.subresource === 'scale' ? this.scaleOf(obj) : this.present(obj, t.rt);
  }

  list(t: Target, q: ListQuery): JsonObject {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector);
    let items = this.store
      .items(t.rt.group, t.rt.kind, t.rt.namespaced ? t.namespace : undefined)
      .filter((o) => labels(o.metadata.labels) && fields(o));
    const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (q.continue) {
      let after: string;
      try {
        after = String(asRecord(JSON.parse(Buffer.from(q.continue, 'base64url').toString('utf8'))).after);
      } catch {
        throw errors.badRequest('invalid continue token');
      }
      items = items.filter((o) => keyOf(o) > after);
    }
    const metadata: JsonObject = { resourceVersion: this.store.resourceVersion() };
    if (q.limit && q.limit > 0 && items.length > q.limit) {
      const rest = items.length - q.limit;
      items = items.slice(0, q.limit);
      metadata.continue = Buffer.from(JSON.stringify({ after: keyOf(items[items.length - 1]) })).toString('base64url');
      metadata.remainingItemCount = rest;
    }
    return {
      kind: `${t.rt.kind}List`,
      apiVersion: apiVersionOf(t.rt.group, t.rt.version),
      metadata,
      items: items.map((o) => this.present(o, t.rt)),
    };
  }

  /** Parses and checks a request body's identity against the URL (kind, apiVersion, name, namespace). */
  private bodyObject(t: Target, body: unknown): KubeObject {
    if (!isRecord(body)) throw errors.badRequest('the request body must be a JSON object');
    const expected = apiVersionOf(t.rt.group, t.rt.version);
    const kind = t.rt.kind;
    if (body.kind !== undefined && body.kind !== kind)
      throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${kind})`);
    if (body.apiVersion !== undefined && body.apiVersion !== expected)
      throw errors.badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`,
      );
    const obj = clone({ ...body, apiVersion: expected, kind: t.rt.kind, metadata: { ...asRecord(body.metadata) } }) as KubeObject;
    const meta = obj.metadata;
    if (t.rt.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== t.namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = t.namespace;
    } else delete meta.namespace;
    if (t.name !== undefined) {
      if (meta.name !== undefined && meta.name !== t.name)
        throw errors.badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${t.name})`);
      meta.name = t.name;
    }
    return obj;
  }

  private requireNamespace(t: Target): void {
    if (!t.rt.namespaced) return;
    const ns = this.store.find('', 'Namespace', undefined, t.namespace ?? '');
    if (!ns) throw errors.notFound({ group: '', resource: 'namespaces', kind: 'Namespace' }, t.namespace ?? '');
    if (ns.metadata.deletionTimestamp) {
      throw errors.forbidden(
        resourceName(t.rt),
        t.name ?? '',
        `unable to create new content in namespace ${t.namespace} because it is being terminated`,
      );
    }
  }

  /** Defaults, CRD pruning and validation; throws 422 with every cause. */
  private normalize(t: Target, obj: KubeObject, old: KubeObject | undefined): KubeObject {
    let out = obj;
    if (t.rt.schema && !t.rt.model) out = pruneUnknown(out, t.rt.schema) as KubeObject;
    applyDefaults(out, { allocateClusterIP: () => this.allocateClusterIP() });
    const causes = this.validator.validate(out, t.rt, old);
    if (causes.length > 0) throw errors.invalid(resourceName(t.rt), out.metadata.name ?? '', causes);
    return out;
  }

  private allocateClusterIP(): string {
    const n = this.nextClusterIP++;
    return `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
  }

  private generateName(t: Target, prefix: string): string {
    for (;;) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      if (!this.live({ ...t, name: prefix + suffix })) return prefix + suffix;
    }
  }

  async create(t: Target, body: unknown): Promise<WriteResult> {
    await this.validator.prepare(t.rt);
    const obj = this.bodyObject({ ...t, name: undefined }, body);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = this.generateName(t, meta.generateName);
    const target = { ...t, name: meta.name };
    this.requireNamespace(target);
    for (const k of [
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'managedFields',
      'selfLink',
    ])
      delete meta[k];
    if (t.rt.status) delete obj.status;
    const normalized = this.normalize(target, obj, undefined);
    if (this.live(target)) throw errors.alreadyExists(resourceName(t.rt), meta.name ?? '');
    normalized.metadata.managedFields = updateOwnership(
      undefined,
      normalized,
      t.fieldManager,
      normalized.apiVersion,
      formatTime(this.now()),
      scopeOf(t),
    );
    return { object: this.commit(target, normalized, undefined), created: true };
  }

  /** PUT on the object, its status or its scale. */
  async update(t: Target, body: unknown): Promise<WriteResult> {
    await this.validator.prepare(t.rt);
    if (t.subresource === 'scale')
      return this.writeScale(t, asRecord(asRecord(body).spec).replicas, asRecord(asRecord(body).metadata).resourceVersion);
    const existing = this.mustExist(t);
    const obj = this.bodyObject(t, body);
    this.checkUid(t, existing, obj.metadata.uid);
    this.checkResourceVersion(t, existing, obj.metadata.resourceVersion);
    return { object: this.replace(t, existing, obj), created: false };
  }

  private checkUid(t: Target, existing: KubeObject, uid: unknown): void {
    if (uid !== undefined && uid !== '' && uid !== existing.metadata.uid) {
      throw errors.conflict(
        resourceName(t.rt),
        existing.metadata.name ?? '',
        `Precondition failed: UID in precondition: ${String(uid)}, UID in object meta: ${String(existing.metadata.uid)}`,
      );
    }
  }

  private checkResourceVersion(t: Target, existing: KubeObject, rv: unknown): void {
    if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion)
      throw errors.conflict(resourceName(t.rt), existing.metadata.name ?? '');
  }

  /** Replaces `existing` by `incoming` within the target's scope (main resource or status). */
  private replace(t: Target, existing: KubeObject, incoming: KubeObject): KubeObject {
    let next: KubeObject;
    if (t.subresource === 'status') {
      next = clone(existing);
      next.status = clone(incoming.status);
    } else {
      next = incoming;
      const m = next.metadata;
      const e = existing.metadata;
      for (const k of [
        'uid',
        'creationTimestamp',
        'generation',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generateName',
      ] as const) {
        if (e[k] === undefined) delete m[k];
        else m[k] = e[k] as never;
      }
      if (t.rt.status) {
        if (existing.status === undefined) delete next.status;
        else next.status = clone(existing.status);
      }
    }
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    next.metadata.managedFields = existing.metadata.managedFields;
    const normalized = this.normalize(t, next, existing);
    normalized.metadata.managedFields = updateOwnership(
      existing,
      normalized,
      t.fieldManager,
      normalized.apiVersion,
      formatTime(this.now()),
      scopeOf(t),
    );
    if (sameObject(normalized, existing)) return this.present(existing, t.rt);
    return this.commit(t, normalized, existing);
  }

  /** Stores (unless dry run) and returns the served form. */
  private commit(t: Target, obj: KubeObject, existing: KubeObject | undefined): KubeObject {
    if (t.dryRun) {
      const preview = clone(obj);
      if (!existing) {
        preview.metadata.uid = '00000000-0000-0000-0000-000000000000';
        preview.metadata.creationTimestamp = formatTime(this.now());
        preview.metadata.generation = 1;
      }
      return this.present(preview, t.rt);
    }
    return this.present(this.store.write(obj, existing), t.rt);
  }

  async patch(t: Target, contentType: string, rawBody: string): Promise<WriteResult> {
    await this.validator.prepare(t.rt);
    if (contentType === PATCH_TYPES.apply) return this.apply(t, rawBody);
    if (t.force) throw errors.badRequest('force is only allowed for apply patches');
    let patch: unknown;
    try {
      patch = JSON.parse(rawBody);
    } catch (e) {
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const existing = this.mustExist(t);
    const base: KubeObject = t.subresource === 'scale' ? this.scaleOf(existing) : this.present(existing, t.rt);
    let patched: unknown;
    switch (contentType) {
      case PATCH_TYPES.merge:
        patched = mergePatch(base, patch);
        break;
      case PATCH_TYPES.json:
        patched = jsonPatch(base, patch);
        break;
      case PATCH_TYPES.strategic:
        // kube-apiserver has no strategic-merge metadata for custom resources
        if (t.rt.crdName) throw errors.unsupportedMediaType(`${contentType} is not supported for custom resources`);
        patched = strategicMerge(base, patch);
        break;
      default:
        throw errors.unsupportedMediaType(`got ${contentType}`);
    }
    if (!isKubeObject(patched)) throw errors.badRequest('the patch produced an object without apiVersion, kind or metadata');
    if (t.subresource === 'scale') return this.writeScale(t, asRecord(patched.spec).replicas, patched.metadata.resourceVersion);
    this.checkUid(t, existing, patched.metadata.uid);
    this.checkResourceVersion(t, existing, patched.metadata.resourceVersion);
    const bodyObject = this.bodyObject(t, {
      ...patched,
      metadata: { ...patched.metadata, name: t.name, namespace: t.rt.namespaced ? t.namespace : undefined },
    });
    return { object: this.replace(t, existing, bodyObject), created: false };
  }

  /** Server-side apply; creates the object when absent. */
  private apply(t: Target, rawBody: string): WriteResult {
    if (!t.fieldManagerGiven || !t.fieldManager)
      throw errors.invalid(resourceName(t.rt), t.name ?? '', [
        { reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' },
      ]);
    if (t.subresource === 'scale') throw errors.methodNotAllowed('apply is not supported on the scale subresource');
    let parsed: unknown;
    try {
      parsed = parseYaml(rawBody);
    } catch (e) {
      throw errors.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isRecord(parsed) || typeof parsed.apiVersion !== 'string' || typeof parsed.kind !== 'string')
      throw errors.badRequest('apply patches must set apiVersion and kind');
    const applied = this.bodyObject(t, stripNulls(parsed));
    const rv = applied.metadata.resourceVersion;
    for (const k of [
      'uid',
      'resourceVersion',
      'generation',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'managedFields',
      'selfLink',
    ])
      delete applied.metadata[k];
    const existing = this.live(t);
    const time = formatTime(this.now());
    const opts = { manager: t.fieldManager, force: t.force === true, apiVersion: applied.apiVersion, time, scope: scopeOf(t) };
    if (!existing) {
      if (t.subresource === 'status') throw errors.notFound(resourceName(t.rt), t.name ?? '');
      if (rv !== undefined && rv !== '') throw errors.conflict(resourceName(t.rt), t.name ?? '');
      this.requireNamespace(t);
      const { object } = serverSideApply(undefined, applied, opts);
      return { object: this.commit(t, this.normalize(t, object, undefined), undefined), created: true };
    }
    this.checkResourceVersion(t, existing, rv);
    const { object } = serverSideApply(existing, applied, opts);
    const next = this.normalize(t, object, existing);
    // identical configuration re-applied: no write, same resourceVersion, no watch event
    if (sameObject(next, existing)) return { object: this.present(existing, t.rt), created: false };
    return { object: this.commit(t, next, existing), created: false };
  }

  /** `autoscaling/v1` Scale view of a Deployment or ReplicaSet. */
  private scaleOf(obj: KubeObject): KubeObject {
    const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
    const spec = asRecord(obj.spec);
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
      spec: { replicas: spec.replicas ?? 0 },
      status: { replicas: asRecord(obj.status).replicas ?? 0, selector: formatLabelSelector(spec.selector) },
    };
  }

  private writeScale(t: Target, replicas: unknown, rv: unknown): WriteResult {
    const existing = this.mustExist(t);
    this.checkResourceVersion(t, existing, rv);
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid({ group: 'autoscaling', resource: 'scale', kind: 'Scale' }, t.name ?? '', [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    }
    const next = clone(existing);
    next.spec = { ...asRecord(existing.spec), replicas };
    const mainTarget: Target = { ...t, subresource: undefined };
    const normalized = this.normalize(mainTarget, next, existing);
    const scope: WriteScope = { statusSubresource: t.rt.status, subresource: 'scale' };
    normalized.metadata.managedFields = updateOwnership(
      existing,
      normalized,
      t.fieldManager,
      normalized.apiVersion,
      formatTime(this.now()),
      scope,
    );
    const object = t.dryRun || sameObject(normalized, existing) ? normalized : this.store.write(normalized, existing);
    return { object: this.scaleOf(object), created: false };
  }

  async delete(t: Target, options: DeleteOptions): Promise<KubeObject | StatusBody> {
    const existing = this.mustExist(t);
    const pre = options.preconditions ?? {};
    const name = existing.metadata.name ?? '';
    if (pre.uid && pre.uid !== existing.metadata.uid)
      throw errors.conflict(
        resourceName(t.rt),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(existing.metadata.uid)}`,
      );
    if (pre.resourceVersion && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw errors.conflict(
        resourceName(t.rt),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(existing.metadata.resourceVersion)}`,
      );
    }
    if (t.dryRun) return successStatus(resourceName(t.rt), name, existing.metadata.uid);
    const result = this.store.deleteObject(existing, options.propagationPolicy ?? 'Background');
    return result.removed ? successStatus(resourceName(t.rt), name, existing.metadata.uid) : this.present(result.object, t.rt);
  }

  async deleteCollection(t: Target, q: ListQuery, options: DeleteOptions): Promise<JsonObject> {
    const list = this.list(t, q);
    const items = Array.isArray(list.items) ? list.items.filter(isKubeObject) : [];
    if (!t.dryRun) {
      for (const item of items) {
        const live = this.store.find(t.rt.group, t.rt.kind, item.metadata.namespace, item.metadata.name ?? '');
        if (live) this.store.deleteObject(live, options.propagationPolicy ?? 'Background');
      }
    }
    return { ...list, metadata: { resourceVersion: this.store.resourceVersion() } };
  }
}
