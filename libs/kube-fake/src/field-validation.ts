/**
 * `fieldValidation` (Ignore | Warn | Strict) and the errors and warnings for unknown fields of built-in kinds, worded
 * as kube-apiserver words them:
 * - server-side apply, whatever the directive: `failed to create typed patch object (<ns>/<name>; apps/v1,
 *   Kind=Deployment): .spec.foo: field not declared in schema` (structured-merge-diff's notation, associative
 *   list items by key: `.spec.template.spec.containers[name="app"].foo`);
 * - create and update with Strict: `Deployment in version "v1" cannot be handled as a Deployment: strict decoding
 *   error: unknown field "spec.foo"`; patches with Strict: `strict decoding error: unknown field "spec.foo"`;
 * - Warn (the server's default): one `Warning: 299 - "unknown field \"spec.foo\""` header per field.
 * The fake answers 422 Invalid with one cause per field where kube-apiserver answers 400 (strict decoding) or,
 * for apply, 500 without a reason (kubernetes/kubernetes#122480).
 */
import { listKeyFields } from './fieldset';
import type { ResourceType } from './resources';
import { ApiError, errors, isRecord, type KubeObject, type StatusCause } from './types';
import { formatStrictFieldPath, type FieldPathSegments } from './unknown-fields';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export type WriteVerb = 'create' | 'update' | 'patch';

const OPTIONS_KIND: Record<WriteVerb, string> = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions' };

/** `?fieldValidation=`: empty or absent means Warn; anything else but Ignore/Warn/Strict is refused. */
export function parseFieldValidation(raw: string | null, verb: WriteVerb): FieldValidation {
  if (raw === null || raw === '') return 'Warn';
  if (raw === 'Ignore' || raw === 'Warn' || raw === 'Strict') return raw;
  throw errors.invalid({ group: 'meta.k8s.io', resource: '', kind: OPTIONS_KIND[verb] }, '', [
    { reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(raw)}: supported values: "", "Ignore", "Strict", "Warn"`, field: 'fieldValidation' },
  ]);
}

function invalid(rt: ResourceType, name: string, message: string, causes: StatusCause[]): ApiError {
  return new ApiError(422, 'Invalid', message, { ...(rt.group ? { group: rt.group } : {}), name, kind: rt.kind, causes });
}

/** Strict create/update/patch of an object with unknown fields. */
export function strictDecodingError(rt: ResourceType, name: string, paths: readonly FieldPathSegments[], verb: WriteVerb): ApiError {
  const fields = paths.map(formatStrictFieldPath);
  const decoding = `strict decoding error: ${fields.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`;
  const message = verb === 'patch' ? decoding : `${rt.kind} in version ${JSON.stringify(rt.version)} cannot be handled as a ${rt.kind}: ${decoding}`;
  return invalid(rt, name, message, fields.map((field) => ({ reason: 'FieldValueInvalid', message: 'unknown field', field })));
}

/** Server-side apply of a configuration with unknown fields. */
export function applyUnknownFieldsError(rt: ResourceType, applied: KubeObject, paths: readonly FieldPathSegments[]): ApiError {
  const gvk = `${rt.group}/${rt.version}, Kind=${rt.kind}`;
  const name = applied.metadata.name ?? '';
  const at = paths.map((p) => `${applyFieldPath(applied, p)}: field not declared in schema`);
  const detail = at.length === 1 ? at[0] : ['errors:', ...at.map((a) => `  ${a}`)].join('\n');
  const message = `failed to create typed patch object (${applied.metadata.namespace ?? ''}/${name}; ${gvk}): ${detail}`;
  return invalid(rt, name, message, paths.map((p) => ({ reason: 'FieldValueInvalid', message: 'field not declared in schema', field: formatStrictFieldPath(p) })));
}

/**
 * A path as structured-merge-diff prints it: `.field`, `[name="app"]` for an item of an associative list (keys
 * sorted, values as JSON), `[0]` for an item of an atomic list.
 */
export function applyFieldPath(obj: unknown, path: FieldPathSegments): string {
  let out = '';
  let node: unknown = obj;
  let field: string | undefined;
  for (const seg of path) {
    if (typeof seg === 'number' && Array.isArray(node)) {
      const keys = listKeyFields(field, node);
      const item = node[seg];
      const parts = isRecord(item) && keys ? [...keys].sort().filter((k) => item[k] !== undefined).map((k) => `${k}=${JSON.stringify(item[k])}`) : [];
      out += parts.length > 0 ? `[${parts.join(',')}]` : `[${seg}]`;
      node = item;
    } else {
      out += `.${seg}`;
      field = String(seg);
      node = isRecord(node) ? node[seg] : undefined;
    }
  }
  return out;
}

/** The value of a `Warning` response header: `299 - "<text>"`, quotes and backslashes escaped. */
export function warningHeaderValue(text: string): string {
  return `299 - "${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `unknown field "spec.foo"`: the warning text for each unknown field of a Warn write. */
export function unknownFieldWarnings(paths: readonly FieldPathSegments[]): string[] {
  return paths.map((p) => `unknown field ${JSON.stringify(formatStrictFieldPath(p))}`);
}
