/**
 * Field schemas of the built-in kinds, from the models @kubernetes/client-node generates out of Kubernetes'
 * OpenAPI document: every model class carries an `attributeTypeMap` (wire name, and type: another model, a
 * primitive, `Array<T>`, `{ [key: string]: T; }`, `IntOrString`, or `any` for free-form JSON). That is the
 * only machine-readable copy of the schemas offline: kubernetes-models ships its schemas compiled into
 * validator functions that ignore undeclared properties.
 */
import * as clientNode from '@kubernetes/client-node';
import type { FieldSchema } from './unknown-fields';

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

/** API groups served by kube-apiserver itself (custom resources get their schema from their CRD). */
const BUILTIN_GROUPS = new Set([
  '',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

const models = clientNode as unknown as Record<string, unknown>;

function attributeTypes(typeName: string): AttributeType[] | undefined {
  const model = models[typeName];
  const map = typeof model === 'function' ? (model as { attributeTypeMap?: unknown }).attributeTypeMap : undefined;
  return Array.isArray(map) ? (map as AttributeType[]) : undefined;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The client-node model of a built-in kind: `<Version><Kind>` (`V1Deployment`), or `<Group><Version><Kind>` where
 * two groups share a kind name (`CoreV1Event`, `EventsV1Event`). Undefined for kinds of other groups.
 */
export function builtinModelName(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = pascal(slash < 0 ? apiVersion : apiVersion.slice(slash + 1));
  if (!BUILTIN_GROUPS.has(group)) return undefined;
  const qualified = `${pascal(group === '' ? 'core' : group.split('.')[0])}${version}${kind}`;
  return [qualified, `${version}${kind}`].find((name) => attributeTypes(name) !== undefined);
}

const MAP = /^\{ \[key: string\]: (.+); \}$/;

/** The schema of one attribute type; model types become `$ref`s (and are queued for the definitions). */
function typeSchema(type: string, format: string, queue: string[]): FieldSchema {
  if (type.startsWith('Array<') && type.endsWith('>')) return { type: 'array', items: typeSchema(type.slice('Array<'.length, -1), format, queue) };
  const map = MAP.exec(type);
  if (map) return { type: 'object', additionalProperties: typeSchema(map[1], format, queue) };
  switch (type) {
    case 'string':
      return { type: 'string' };
    case 'Date':
      return { type: 'string', format: 'date-time' };
    case 'V1MicroTime': // a string in the OpenAPI document; client-node names the alias but generates no model
      return { type: 'string', format: 'date-time' };
    case 'number':
      return format === 'int32' || format === 'int64' ? { type: 'integer', format } : { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'IntOrString':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
    case 'object':
      return { 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (!attributeTypes(type)) throw new Error(`kube-fake: no client-node model for the schema type ${type}`);
  queue.push(type);
  return { $ref: `#/definitions/${type}` };
}

/** Converted model definitions, shared by every document (they never change). */
const definitionCache = new Map<string, FieldSchema>();
const documentCache = new Map<string, FieldSchema>();

function definition(typeName: string, queue: string[]): FieldSchema {
  let def = definitionCache.get(typeName);
  if (!def) {
    const properties: Record<string, FieldSchema> = {};
    for (const a of attributeTypes(typeName) ?? []) properties[a.baseName] = typeSchema(a.type, a.format, []);
    def = { type: 'object', properties };
    definitionCache.set(typeName, def);
  }
  // the references of a cached definition still have to join this document
  for (const p of Object.values(def.properties ?? {})) collectRefs(p, queue);
  return def;
}

function collectRefs(s: FieldSchema, queue: string[]): void {
  if (typeof s.$ref === 'string') queue.push(s.$ref.slice('#/definitions/'.length));
  if (s.items) collectRefs(s.items, queue);
  if (typeof s.additionalProperties === 'object') collectRefs(s.additionalProperties, queue);
}

/** A schema document for a client-node model: `{ $ref, definitions }` holding every model it reaches. */
export function modelSchema(typeName: string): FieldSchema {
  const cached = documentCache.get(typeName);
  if (cached) return cached;
  if (!attributeTypes(typeName)) throw new Error(`kube-fake: no client-node model named ${typeName}`);
  const definitions: Record<string, FieldSchema> = {};
  const queue = [typeName];
  while (queue.length > 0) {
    const next = queue.pop() as string;
    if (!(next in definitions)) definitions[next] = definition(next, queue);
  }
  const doc: FieldSchema = { $ref: `#/definitions/${typeName}`, definitions };
  documentCache.set(typeName, doc);
  return doc;
}

/**
 * The field schema of a built-in kind (`apps/v1`, `Deployment`), for `unknownFields`; undefined for kinds
 * kube-apiserver does not serve itself (custom resources).
 */
export function builtinSchema(apiVersion: string, kind: string): FieldSchema | undefined {
  const name = builtinModelName(apiVersion, kind);
  return name === undefined ? undefined : modelSchema(name);
}
