/**
 * The three non-apply patch formats kube-apiserver accepts:
 * - `application/merge-patch+json` (RFC 7386),
 * - `application/json-patch+json` (RFC 6902),
 * - `application/strategic-merge-patch+json`, approximated as a merge patch whose associative lists
 *   (containers, env, ports, volumes, volumeMounts, conditions, any list of named objects) merge item by item
 *   on their key, with `$patch: delete` / `$patch: replace` directives; other `$` directives are ignored.
 */
import { itemSegment, listKeyFields } from './fieldset';
import { ApiError, clone, deepEqual, errors, isRecord, type JsonObject } from './types';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const out: JsonObject = isRecord(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function strategicList(field: string, target: unknown, patch: unknown[]): unknown[] {
  const live = Array.isArray(target) ? target : [];
  const keys =
    listKeyFields(
      field,
      patch.filter((p) => !(isRecord(p) && p.$patch === 'delete' && Object.keys(p).length === 1)),
    ) ?? listKeyFields(field, live);
  if (patch.some((p) => isRecord(p) && p.$patch === 'replace'))
    return patch.filter((p) => !(isRecord(p) && p.$patch === 'replace')).map((p) => strategicMerge(undefined, p));
  if (!keys) return patch.map((p) => strategicMerge(undefined, p));
  const out = clone(live) as unknown[];
  for (const p of patch) {
    if (!isRecord(p)) continue;
    const seg = itemSegment(p, keys);
    const i = out.findIndex((item) => isRecord(item) && itemSegment(item, keys) === seg);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMerge(out[i], p);
    else out.push(strategicMerge(undefined, p));
  }
  return out;
}

/** Strategic merge patch (see module comment for what is and is not modelled). */
export function strategicMerge(target: unknown, patch: unknown, field?: string): unknown {
  if (Array.isArray(patch)) return field ? strategicList(field, target, patch) : clone(patch);
  if (!isRecord(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return strategicMerge(undefined, rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isRecord(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMerge(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

type Container = JsonObject | unknown[];

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${message}`);
}

/** Resolves a JSON pointer to (parent container, last token). */
function resolve(doc: unknown, pointer: string): { parent: Container; token: string } {
  if (pointer === '' || !pointer.startsWith('/')) throw invalidPatch(`invalid JSON pointer "${pointer}"`);
  const tokens = pointer.slice(1).split('/').map(unescape);
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw invalidPatch(`path "${pointer}" does not exist`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw invalidPatch(`path "${pointer}" does not exist`);
  return { parent: cur, token: tokens[tokens.length - 1] };
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw invalidPatch(`invalid array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (!forInsert && i === arr.length)) throw invalidPatch(`array index ${i} out of bounds`);
  return i;
}

function read(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  const { parent, token } = resolve(doc, pointer);
  const value = Array.isArray(parent) ? parent[arrayIndex(parent, token, false)] : parent[token];
  if (value === undefined) throw invalidPatch(`path "${pointer}" does not exist`);
  return value;
}

function remove(doc: unknown, pointer: string): unknown {
  const { parent, token } = resolve(doc, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, token, false), 1)[0];
  if (!(token in parent)) throw invalidPatch(`unable to remove nonexistent key "${token}"`);
  const value = parent[token];
  delete parent[token];
  return value;
}

function add(doc: unknown, pointer: string, value: unknown): void {
  const { parent, token } = resolve(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true), 0, clone(value));
  else parent[token] = clone(value);
}

/** RFC 6902 JSON patch; a failed `test` or a bad path is a 422, a malformed document a 400. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch must be an array of operations');
  const doc = clone(target);
  for (const raw of ops) {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw errors.badRequest('invalid json patch operation');
    const { op, path } = raw;
    switch (op) {
      case 'add':
        add(doc, path, raw.value);
        break;
      case 'remove':
        remove(doc, path);
        break;
      case 'replace':
        remove(doc, path);
        add(doc, path, raw.value);
        break;
      case 'move': {
        if (typeof raw.from !== 'string') throw errors.badRequest('move requires "from"');
        add(doc, path, remove(doc, raw.from));
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw errors.badRequest('copy requires "from"');
        add(doc, path, read(doc, raw.from));
        break;
      }
      case 'test':
        if (!deepEqual(read(doc, path), raw.value)) throw invalidPatch(`testing value ${path} failed`);
        break;
      default:
        throw errors.badRequest(`unknown json patch operation "${op}"`);
    }
  }
  return doc;
}
