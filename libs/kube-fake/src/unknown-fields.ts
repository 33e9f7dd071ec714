/**
 * Unknown fields: the fields of an object that its OpenAPI schema does not declare. kube-apiserver rejects them
 * for built-in kinds (server-side apply always: `.spec.foo: field not declared in schema`; other writes with
 * `fieldValidation=Strict`: `unknown field "spec.foo"`) and drops them otherwise.
 *
 * Pure functions over a schema document: `$ref`s (JSON pointers into the root, e.g. `#/definitions/X` or
 * `#/components/schemas/X`), `allOf`/`anyOf`/`oneOf` (a field declared by any branch is known),
 * `properties`, `additionalProperties` (maps such as labels or resources.limits take any key),
 * `items`, `x-kubernetes-preserve-unknown-fields`. An object schema that declares neither properties nor
 * additionalProperties (RawExtension, FieldsV1, `{}`) is free-form, as structured-merge-diff treats it.
 * Values whose type does not match the schema are left to type validation.
 */
import { isRecord, type JsonObject } from './types';

/** The part of an OpenAPI v3 / JSON schema node that decides which fields exist. */
export interface FieldSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, FieldSchema>;
  additionalProperties?: FieldSchema | boolean;
  items?: FieldSchema;
  allOf?: FieldSchema[];
  anyOf?: FieldSchema[];
  oneOf?: FieldSchema[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  /** Targets of `#/definitions/<name>` references. */
  definitions?: Record<string, FieldSchema>;
  /** Targets of `#/components/schemas/<name>` references. */
  components?: { schemas?: Record<string, FieldSchema> };
  [keyword: string]: unknown;
}

/** A field path: object keys and list indexes, from the root. */
export type FieldPathSegments = readonly (string | number)[];

function resolveRef(ref: string, root: FieldSchema): FieldSchema {
  if (!ref.startsWith('#/')) throw new Error(`unknownFields: only local $refs are supported, got ${JSON.stringify(ref)}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isRecord(node) ? node[key] : undefined;
  }
  if (!isRecord(node)) throw new Error(`unknownFields: $ref ${JSON.stringify(ref)} does not resolve`);
  return node as FieldSchema;
}

/** The schema nodes that apply to one value: `$ref`s followed, `allOf`/`anyOf`/`oneOf` flattened. */
function flatten(schemas: readonly FieldSchema[], root: FieldSchema): FieldSchema[] {
  const out: FieldSchema[] = [];
  const seen = new Set<FieldSchema>();
  const visit = (s: FieldSchema): void => {
    if (seen.has(s)) return;
    seen.add(s);
    if (typeof s.$ref === 'string') visit(resolveRef(s.$ref, root));
    for (const branch of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) visit(branch);
    out.push(s);
  };
  schemas.forEach(visit);
  return out;
}

/** A node that only combines or points at others says nothing about fields by itself. */
const isCombinator = (s: FieldSchema): boolean => typeof s.$ref === 'string' || s.allOf !== undefined || s.anyOf !== undefined || s.oneOf !== undefined;

interface ObjectShape {
  /** Unknown keys are allowed (preserve-unknown-fields, free-form object, `additionalProperties: true`). */
  open: boolean;
  /** Schemas of a key: its declared property schemas, else the additionalProperties schemas. */
  schemasOf(key: string): FieldSchema[];
}

/** How an object value is constrained by these (flattened) nodes; undefined when none of them allows an object. */
function objectShape(nodes: readonly FieldSchema[]): ObjectShape | undefined {
  const preserve = nodes.some((s) => s['x-kubernetes-preserve-unknown-fields'] === true);
  // a `$ref`/`allOf` wrapper (with a description or default) adds no constraint of its own: its targets do
  const own = nodes.filter((s) => !isCombinator(s) || s.type !== undefined || s.properties !== undefined || s.additionalProperties !== undefined);
  const objectNodes = own.filter((s) => (s.type === undefined || s.type === 'object') && s['x-kubernetes-int-or-string'] !== true);
  if (objectNodes.length === 0 && own.length > 0 && !preserve) return undefined;
  // no properties and no additionalProperties: a free-form object (RawExtension, FieldsV1, `{}`)
  const open = preserve || own.length === 0 || objectNodes.some((s) => s.additionalProperties === true || (s.properties === undefined && s.additionalProperties === undefined));
  return {
    open,
    schemasOf: (key) => {
      const declared = objectNodes.flatMap((s) => (s.properties && Object.hasOwn(s.properties, key) ? [s.properties[key]] : []));
      if (declared.length > 0) return declared;
      return objectNodes.flatMap((s) => (isRecord(s.additionalProperties) ? [s.additionalProperties as FieldSchema] : []));
    },
  };
}

function walk(value: unknown, schemas: readonly FieldSchema[], root: FieldSchema, path: (string | number)[], found: (string | number)[][]): void {
  if (schemas.length === 0) return;
  const nodes = flatten(schemas, root);
  if (Array.isArray(value)) {
    const items = nodes.flatMap((s) => (s.items ? [s.items] : []));
    value.forEach((item, i) => walk(item, items, root, [...path, i], found));
    return;
  }
  if (!isRecord(value)) return;
  const shape = objectShape(nodes);
  if (!shape) return;
  for (const [key, child] of Object.entries(value)) {
    const next = shape.schemasOf(key);
    if (next.length > 0) walk(child, next, root, [...path, key], found);
    else if (!shape.open) found.push([...path, key]);
  }
}

/** Paths of every field of `obj` that `schema` does not declare, in document order (outermost first). */
export function unknownFieldPaths(obj: unknown, schema: FieldSchema): (string | number)[][] {
  const found: (string | number)[][] = [];
  walk(obj, [schema], schema, [], found);
  return found;
}

/** `.spec.template.spec.containers[0].imagee`: structured-merge-diff's notation for plain fields and indexes. */
export function formatFieldPath(path: FieldPathSegments): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/** `spec.template.spec.containers[0].imagee`: the notation of strict decoding errors and `Status` causes. */
export function formatStrictFieldPath(path: FieldPathSegments): string {
  return formatFieldPath(path).replace(/^\./, '');
}

/**
 * The fields of `obj` that `schema` does not declare, as `.spec.template.spec.containrs` (empty when none).
 * Map-valued fields (labels, annotations, resources.limits, ConfigMap data, ...) accept any key.
 */
export function unknownFields(obj: unknown, schema: FieldSchema): string[] {
  return unknownFieldPaths(obj, schema).map(formatFieldPath);
}

/** A copy of `obj` without the fields `schema` does not declare (what kube-apiserver keeps of a lax write). */
export function pruneUnknownFields<T>(obj: T, schema: FieldSchema): T {
  const paths = unknownFieldPaths(obj, schema);
  if (paths.length === 0) return obj;
  const copy = structuredClone(obj);
  for (const path of paths) {
    let node: unknown = copy;
    for (const seg of path.slice(0, -1)) node = Array.isArray(node) ? node[seg as number] : isRecord(node) ? node[seg] : undefined;
    if (isRecord(node)) delete (node as JsonObject)[path[path.length - 1] as string];
  }
  return copy;
}
