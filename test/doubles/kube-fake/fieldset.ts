/**
 * Field paths and field sets, the bookkeeping behind `metadata.managedFields`.
 *
 * A path is a list of segments in FieldsV1 notation: `f:<field>` for a struct/map key and `k:{"name":"app"}` for
 * an item of an associative list (a list of objects keyed by one or more fields). Lists that are not associative
 * (primitive lists, lists of unnamed objects) are atomic: the whole list is one leaf. A set holds leaf paths and
 * item paths (`k:` last), and converts to and from the nested FieldsV1 object written in managedFields.
 */
import { asRecord, deepEqual, isRecord, type JsonObject, type ManagedFieldsEntry } from './types';

export type FieldPath = readonly string[];

const SEP = '\u0001';

export class FieldSet {
  private readonly map = new Map<string, FieldPath>();

  constructor(paths: Iterable<FieldPath> = []) {
    for (const p of paths) this.add(p);
  }

  add(path: FieldPath): void {
    this.map.set(path.join(SEP), path);
  }

  has(path: FieldPath): boolean {
    return this.map.has(path.join(SEP));
  }

  delete(path: FieldPath): void {
    this.map.delete(path.join(SEP));
  }

  get size(): number {
    return this.map.size;
  }

  paths(): FieldPath[] {
    return [...this.map.values()];
  }

  /** True if the set holds `prefix` itself or any path below it. */
  hasWithin(prefix: FieldPath): boolean {
    const key = prefix.join(SEP);
    for (const k of this.map.keys()) if (k === key || k.startsWith(key + SEP)) return true;
    return false;
  }

  /** Removes `prefix` and every path below it. */
  deleteWithin(prefix: FieldPath): void {
    const key = prefix.join(SEP);
    for (const k of [...this.map.keys()]) if (k === key || k.startsWith(key + SEP)) this.map.delete(k);
  }

  equals(other: FieldSet): boolean {
    if (other.size !== this.size) return false;
    for (const k of this.map.keys()) if (!other.map.has(k)) return false;
    return true;
  }

  /** The nested FieldsV1 object: leaves are `{}`, list items carry a `".": {}` marker. */
  toFieldsV1(): JsonObject {
    const root: JsonObject = {};
    for (const path of [...this.map.values()].sort((a, b) => a.join(SEP).localeCompare(b.join(SEP)))) {
      let node = root;
      for (const seg of path) {
        if (!isRecord(node[seg])) node[seg] = {};
        node = asRecord(node[seg]);
      }
      if (path[path.length - 1]?.startsWith('k:')) node['.'] = {};
    }
    return root;
  }

  static fromFieldsV1(tree: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: JsonObject, path: string[]): void => {
      const keys = Object.keys(node).filter((k) => k !== '.');
      if ('.' in node || (keys.length === 0 && path.length > 0)) set.add(path);
      for (const k of keys) walk(asRecord(node[k]), [...path, k]);
    };
    walk(asRecord(tree), []);
    return set;
  }
}

/** Key fields of an associative list, by field name; `ports` depends on the item shape. */
const LIST_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  conditions: ['type'],
  ownerReferences: ['uid'],
  topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
};

/**
 * The merge keys of a list field, or undefined when the list is atomic. Known Kubernetes list types first
 * (containers by name, container ports by containerPort+protocol, service ports by port+protocol, ...), then any
 * list whose items all carry a string `name`.
 */
export function listKeyFields(field: string | undefined, items: readonly unknown[]): string[] | undefined {
  if (items.length === 0 || !items.every(isRecord)) return undefined;
  const records = items as JsonObject[];
  if (field === 'ports') {
    if (records.every((i) => 'containerPort' in i)) return ['containerPort', 'protocol'];
    if (records.every((i) => 'port' in i)) return ['port', 'protocol'];
    return undefined;
  }
  const known = field ? LIST_KEYS[field] : undefined;
  if (known) return records.every((i) => known.every((k) => k === 'protocol' || i[k] !== undefined)) ? known : undefined;
  return records.every((i) => typeof i.name === 'string') ? ['name'] : undefined;
}

/** `k:{...}` segment for an item; a missing `protocol` key counts as the API default `TCP`. */
export function itemSegment(item: JsonObject, keys: readonly string[]): string {
  const key: JsonObject = {};
  for (const k of [...keys].sort()) key[k] = item[k] ?? (k === 'protocol' ? 'TCP' : null);
  return `k:${JSON.stringify(key)}`;
}

function keysOfSegment(segment: string): string[] {
  try {
    return Object.keys(asRecord(JSON.parse(segment.slice(2))));
  } catch {
    return [];
  }
}

export function lastFieldName(path: FieldPath): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (path[i].startsWith('f:')) return path[i].slice(2);
  return undefined;
}

/** Every leaf and list-item path of `value`; `skip` prunes paths (and everything below them). */
export function fieldSetOf(value: unknown, skip: (path: FieldPath) => boolean = () => false): FieldSet {
  const set = new FieldSet();
  const walk = (v: unknown, path: string[]): void => {
    if (path.length > 0 && skip(path)) return;
    if (isRecord(v)) {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined && v[k] !== null);
      if (keys.length === 0 && path.length > 0) set.add(path);
      for (const k of keys) walk(v[k], [...path, `f:${k}`]);
      return;
    }
    if (Array.isArray(v)) {
      const keys = listKeyFields(lastFieldName(path), v);
      if (!keys) return set.add(path);
      for (const item of v as JsonObject[]) {
        const itemPath = [...path, itemSegment(item, keys)];
        set.add(itemPath);
        for (const k of Object.keys(item)) if (item[k] !== undefined && item[k] !== null) walk(item[k], [...itemPath, `f:${k}`]);
      }
      return;
    }
    if (path.length > 0) set.add(path);
  };
  walk(value, []);
  return set;
}

function findItem(list: unknown[], segment: string): number {
  const keys = keysOfSegment(segment);
  return list.findIndex((item) => isRecord(item) && itemSegment(item, keys) === segment);
}

/** The value at `path`, or `found: false`. */
export function getAt(root: unknown, path: FieldPath): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const seg of path) {
    if (seg.startsWith('f:') && isRecord(cur) && cur[seg.slice(2)] !== undefined) cur = cur[seg.slice(2)];
    else if (seg.startsWith('k:') && Array.isArray(cur)) {
      const i = findItem(cur, seg);
      if (i < 0) return { found: false };
      cur = cur[i];
    } else return { found: false };
  }
  return { found: true, value: cur };
}

/** Removes the field or list item at `path` (no-op when absent). */
export function deleteAt(root: unknown, path: FieldPath): void {
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!parent.found || last === undefined) return;
  if (last.startsWith('f:') && isRecord(parent.value)) delete parent.value[last.slice(2)];
  if (last.startsWith('k:') && Array.isArray(parent.value)) {
    const i = findItem(parent.value, last);
    if (i >= 0) parent.value.splice(i, 1);
  }
}

/** Human form used in conflict messages: `.spec.template.spec.containers[name="app"].image`. */
export function formatPath(path: FieldPath): string {
  return path
    .map((seg) => {
      if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
      const key = asRecord(JSON.parse(seg.slice(2)));
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

/** A managedFields entry together with its parsed field set. */
export interface ManagerFields {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: string;
  apiVersion: string;
  time?: string;
  set: FieldSet;
}

export function readManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): ManagerFields[] {
  return (entries ?? []).map((e) => ({
    manager: e.manager,
    operation: e.operation,
    ...(e.subresource ? { subresource: e.subresource } : {}),
    apiVersion: e.apiVersion,
    time: e.time,
    set: FieldSet.fromFieldsV1(e.fieldsV1),
  }));
}

export function writeManagedFields(managers: readonly ManagerFields[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      ...(m.time ? { time: m.time } : {}),
      fieldsType: 'FieldsV1' as const,
      fieldsV1: m.set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

export function sameManager(
  a: Pick<ManagerFields, 'manager' | 'operation' | 'subresource'>,
  b: Pick<ManagerFields, 'manager' | 'operation' | 'subresource'>,
): boolean {
  return a.manager === b.manager && a.operation === b.operation && (a.subresource ?? '') === (b.subresource ?? '');
}

/** Leaf paths (not list-item markers) whose values differ between two objects, plus paths only in `after`. */
export function changedPaths(before: unknown, after: unknown, beforeSet: FieldSet, afterSet: FieldSet): FieldPath[] {
  return afterSet.paths().filter((p) => {
    if (!beforeSet.has(p)) return true;
    if (p[p.length - 1]?.startsWith('k:')) return false;
    return !deepEqual(getAt(before, p).value, getAt(after, p).value);
  });
}
