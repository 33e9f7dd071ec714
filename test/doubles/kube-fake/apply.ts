/**
 * Field ownership: server-side apply (`application/apply-patch+yaml`) and the `Update` bookkeeping that every
 * other write does, both recorded in `metadata.managedFields`.
 *
 * Apply, for manager M:
 * 1. the applied configuration's field set S (leaves and associative-list items) is computed;
 * 2. every leaf in S owned by another manager whose live value differs from the applied one is a conflict
 *    (409 listing the fields) unless `force`, which moves ownership to M;
 * 3. the configuration is merged into the live object (maps recursively, associative lists item by item on their
 *    keys, everything else replaced);
 * 4. fields M owned before but that are no longer in S are removed, unless another manager also owns them;
 * 5. M's Apply entry becomes exactly S.
 * Update (create, PUT, non-apply patches): M takes ownership of every field whose value it changed, which the
 * other managers lose; removed fields are dropped from every entry.
 */
import {
  changedPaths,
  deleteAt,
  type FieldPath,
  FieldSet,
  fieldSetOf,
  formatPath,
  getAt,
  itemSegment,
  listKeyFields,
  type ManagerFields,
  readManagedFields,
  sameManager,
  writeManagedFields,
} from './fieldset';
import { ApiError, clone, deepEqual, isRecord, type JsonObject, type KubeObject, type StatusCause } from './types';

/** Metadata fields owned by the system, never tracked per manager. */
const SYSTEM_METADATA = new Set([
  'f:name',
  'f:namespace',
  'f:uid',
  'f:resourceVersion',
  'f:generation',
  'f:creationTimestamp',
  'f:deletionTimestamp',
  'f:deletionGracePeriodSeconds',
  'f:managedFields',
  'f:selfLink',
  'f:generateName',
]);

/** Which part of the object a write may touch. */
export interface WriteScope {
  /** The resource has a `/status` subresource (main-resource writes then ignore `status`). */
  statusSubresource: boolean;
  /** The write goes through this subresource (`scale` writes touch `spec.replicas` of the main object). */
  subresource?: 'status' | 'scale';
}

export function isIgnoredPath(path: FieldPath, scope: WriteScope): boolean {
  const head = path[0];
  if (head === 'f:apiVersion' || head === 'f:kind') return true;
  if (head === 'f:metadata' && path.length > 1 && SYSTEM_METADATA.has(path[1])) return true;
  if (scope.subresource === 'status') return head !== 'f:status';
  return scope.statusSubresource && head === 'f:status';
}

export function ownedFieldSet(obj: unknown, scope: WriteScope): FieldSet {
  return fieldSetOf(obj, (p) => isIgnoredPath(p, scope));
}

/** Drops explicit nulls (an applied `null` means "not specified"). */
export function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (!isRecord(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = stripNulls(v);
  return out;
}

/** Merges an applied configuration into a live value (step 3 above). */
export function mergeApplied(live: unknown, applied: unknown, field?: string): unknown {
  if (isRecord(applied)) {
    const out: JsonObject = isRecord(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(out[k], v, k);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const keys = listKeyFields(field, applied.length > 0 ? applied : live);
    if (!keys || !live.every(isRecord)) return clone(applied);
    const out = clone(live) as JsonObject[];
    for (const item of applied as JsonObject[]) {
      const seg = itemSegment(item, keys);
      const i = out.findIndex((x) => itemSegment(x, keys) === seg);
      if (i >= 0) out[i] = mergeApplied(out[i], item) as JsonObject;
      else out.push(clone(item));
    }
    return out;
  }
  return clone(applied);
}

/** `…/k:{"name":"x"}/f:name`: a key field of an associative-list item. */
function isKeyField(path: FieldPath): boolean {
  const parent = path[path.length - 2];
  const last = path[path.length - 1];
  if (!parent?.startsWith('k:') || !last?.startsWith('f:')) return false;
  try {
    return last.slice(2) in asRecordSafe(JSON.parse(parent.slice(2)));
  } catch {
    return false;
  }
}

function asRecordSafe(v: unknown): JsonObject {
  return isRecord(v) ? v : {};
}

export interface FieldConflict {
  manager: string;
  apiVersion: string;
  path: FieldPath;
}

/** 409 exactly as kube-apiserver words an apply conflict. */
export function applyConflictError(conflicts: FieldConflict[]): ApiError {
  const byManager = new Map<string, FieldConflict[]>();
  for (const c of conflicts)
    byManager.set(`${c.manager}\u0000${c.apiVersion}`, [...(byManager.get(`${c.manager}\u0000${c.apiVersion}`) ?? []), c]);
  const n = conflicts.length;
  let message = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: `;
  const groups = [...byManager.values()].map((cs) => {
    const who = `conflict${cs.length === 1 ? '' : 's'} with "${cs[0].manager}" using ${cs[0].apiVersion}`;
    return cs.length === 1 ? `${who}: ${formatPath(cs[0].path)}` : `${who}:\n${cs.map((c) => `- ${formatPath(c.path)}`).join('\n')}`;
  });
  message += groups.join('\n');
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with "${c.manager}" using ${c.apiVersion}`,
    field: formatPath(c.path),
  }));
  return new ApiError(409, 'Conflict', message, { causes });
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** apiVersion recorded in the manager's entry. */
  apiVersion: string;
  time: string;
  scope: WriteScope;
}

export interface ApplyResult {
  /** The merged object (not yet defaulted or validated), with updated managedFields. */
  object: KubeObject;
  /** The manager's field set changed (a new entry, or fields added/removed). */
  ownershipChanged: boolean;
}

/**
 * Server-side apply of `applied` onto `live` (undefined when the object does not exist yet). Throws the 409
 * conflict error when another manager owns a field with a different value and `force` is off.
 */
export function serverSideApply(live: KubeObject | undefined, appliedRaw: KubeObject, opts: ApplyOptions): ApplyResult {
  const applied = stripNulls(appliedRaw) as KubeObject;
  if (opts.scope.subresource === 'status') {
    for (const k of Object.keys(applied)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) delete applied[k];
  } else if (opts.scope.statusSubresource) delete applied.status;

  const appliedSet = ownedFieldSet(applied, opts.scope);
  const managers = readManagedFields(live?.metadata.managedFields);
  const me = {
    manager: opts.manager,
    operation: 'Apply' as const,
    ...(opts.scope.subresource ? { subresource: opts.scope.subresource } : {}),
  };
  const mine = managers.find((m) => sameManager(m, me));
  const others = managers.filter((m) => m !== mine);

  const conflicts: (FieldConflict & { owner: ManagerFields })[] = [];
  if (live) {
    for (const other of others) {
      for (const p of appliedSet.paths()) {
        if (p[p.length - 1].startsWith('k:') || !other.set.has(p)) continue;
        if (!deepEqual(getAt(live, p).value, getAt(applied, p).value))
          conflicts.push({ manager: other.manager, apiVersion: other.apiVersion, path: p, owner: other });
      }
    }
  }
  if (conflicts.length > 0 && !opts.force) throw applyConflictError(conflicts);
  for (const c of conflicts) c.owner.set.delete(c.path);

  const merged = mergeApplied(live ?? {}, applied) as KubeObject;
  if (mine) {
    // parents first: a list item goes as a whole (unless someone else owns part of it); the key fields of an item
    // that stays are never removed
    const removed = mine.set.paths().filter((p) => !appliedSet.has(p) && !isKeyField(p));
    removed.sort((a, b) => a.length - b.length);
    for (const p of removed) {
      if (others.some((o) => o.set.hasWithin(p))) continue;
      deleteAt(merged, p);
      // maps emptied by the removal go too (`labels: {}` is not left behind)
      for (let up = p.slice(0, -1); up.length > 0 && up[up.length - 1].startsWith('f:') && !appliedSet.has(up); up = up.slice(0, -1)) {
        const parent = getAt(merged, up);
        if (!parent.found || !isRecord(parent.value) || Object.keys(parent.value).length > 0) break;
        deleteAt(merged, up);
      }
    }
  }

  const ownershipChanged = !mine || !mine.set.equals(appliedSet);
  const entry: ManagerFields = { ...me, apiVersion: opts.apiVersion, time: opts.time, set: appliedSet };
  const next = mine ? managers.map((m) => (m === mine ? entry : m)) : [...managers, entry];
  merged.metadata = { ...merged.metadata, managedFields: writeManagedFields(next) };
  return { object: merged, ownershipChanged };
}

/**
 * Ownership after a non-apply write by `manager` (operation Update): it gains the fields it changed, the others
 * lose them; fields that disappeared leave every entry. Returns the new managedFields.
 */
export function updateOwnership(
  live: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  apiVersion: string,
  time: string,
  scope: WriteScope,
): KubeObject['metadata']['managedFields'] {
  const beforeSet = live ? ownedFieldSet(live, scope) : new FieldSet();
  const afterSet = ownedFieldSet(next, scope);
  const changed = changedPaths(live, next, beforeSet, afterSet);
  const removed = beforeSet.paths().filter((p) => !afterSet.has(p));
  const managers = readManagedFields(live?.metadata.managedFields);
  const me = { manager, operation: 'Update' as const, ...(scope.subresource ? { subresource: scope.subresource } : {}) };
  let mine = managers.find((m) => sameManager(m, me));
  for (const m of managers) {
    if (m === mine) continue;
    for (const p of changed) if (!p[p.length - 1].startsWith('k:')) m.set.delete(p);
    for (const p of removed) m.set.deleteWithin(p);
  }
  if (changed.length === 0 && !mine) return writeManagedFields(managers);
  if (!mine) {
    mine = { ...me, apiVersion, set: new FieldSet() };
    managers.push(mine);
  }
  for (const p of removed) mine.set.deleteWithin(p);
  for (const p of changed) mine.set.add(p);
  if (changed.length > 0 || removed.length > 0) {
    mine.time = time;
    mine.apiVersion = apiVersion;
  }
  return writeManagedFields(managers);
}
