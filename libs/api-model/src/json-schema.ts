import { ACTION_NAMES, getShape, inputShapeName, outputShapeName, type Shape, type ShapeRef } from './model';
import { toJsPattern } from './pattern';

/** The subset of JSON Schema 2020-12 (= OpenAPI 3.1 Schema Object) that App Runner shapes need. */
export interface JSONSchema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  items?: JSONSchema;
  additionalProperties?: JSONSchema;
  propertyNames?: JSONSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  'x-sensitive'?: true;
}

const COMPONENTS = '#/components/schemas/';
const MAX_DESCRIPTION = 400;

/**
 * The schema of one shape: structures as full object schemas whose structure members are `$ref`s to
 * `#/components/schemas/<Shape>`; everything else inline. Unknown members stay allowed (AWS ignores them).
 */
export function shapeToJsonSchema(shapeName: string): JSONSchema {
  return schemaOf(getShape(shapeName));
}

/** Schemas of every structure reachable from the 37 operations' inputs and outputs, keyed by shape name. */
export function openApiComponents(): Record<string, JSONSchema> {
  const out: Record<string, JSONSchema> = {};
  const visit = (name: string): void => {
    const shape = getShape(name);
    if (shape.type === 'structure') {
      if (name in out) return;
      out[name] = shapeToJsonSchema(name);
      for (const ref of Object.values(shape.members)) visit(ref.shape);
    } else if (shape.type === 'list') visit(shape.member.shape);
    else if (shape.type === 'map') [shape.key, shape.value].forEach((ref) => visit(ref.shape));
  };
  for (const action of ACTION_NAMES) [inputShapeName(action), outputShapeName(action)].forEach(visit);
  return out;
}

function schemaOf(shape: Shape): JSONSchema {
  const schema = constraintsOf(shape);
  const description = shape.type === 'timestamp' ? schema.description : describe(shape.documentation);
  if (description) schema.description = description;
  if (shape.sensitive) schema['x-sensitive'] = true;
  return schema;
}

/** A member's schema: `$ref` for structures, inline otherwise; the member's own documentation wins. */
function refSchema(ref: ShapeRef): JSONSchema {
  const shape = getShape(ref.shape);
  const schema: JSONSchema = shape.type === 'structure' ? { $ref: `${COMPONENTS}${ref.shape}` } : schemaOf(shape);
  const doc = describe(ref.documentation);
  if (doc) schema.description = shape.type === 'timestamp' ? `${doc} (epoch seconds)` : doc;
  return schema;
}

function constraintsOf(shape: Shape): JSONSchema {
  switch (shape.type) {
    case 'structure': {
      const properties: Record<string, JSONSchema> = {};
      for (const [name, ref] of Object.entries(shape.members)) properties[name] = refSchema(ref);
      return { type: 'object', properties, ...(shape.required?.length ? { required: [...shape.required] } : {}) };
    }
    case 'list':
      return { type: 'array', items: refSchema(shape.member), ...bounds('minItems', 'maxItems', shape) };
    case 'map':
      return {
        type: 'object',
        propertyNames: refSchema(shape.key),
        additionalProperties: refSchema(shape.value),
        ...bounds('minProperties', 'maxProperties', shape),
      };
    case 'string': {
      // JSON Schema patterns are ECMA-262 with `u`; one that needs legacy syntax is left out rather than broken.
      const pattern = shape.pattern === undefined ? undefined : toJsPattern(shape.pattern);
      return {
        type: 'string',
        ...bounds('minLength', 'maxLength', shape),
        ...(pattern?.flags === 'u' ? { pattern: pattern.source } : {}),
        ...(shape.enum ? { enum: [...shape.enum] } : {}),
      };
    }
    case 'integer':
    case 'long':
      return { type: 'integer', format: shape.type === 'integer' ? 'int32' : 'int64', ...bounds('minimum', 'maximum', shape) };
    case 'float':
    case 'double':
      return { type: 'number', format: shape.type, ...bounds('minimum', 'maximum', shape) };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamp':
      return { type: 'number', description: 'epoch seconds' };
    case 'blob':
      return { type: 'string', format: 'byte' };
  }
}

function bounds<K extends keyof JSONSchema>(minKey: K, maxKey: K, shape: { min?: number; max?: number }): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  if (shape.min !== undefined) out[minKey] = shape.min;
  if (shape.max !== undefined) out[maxKey] = shape.max;
  return out;
}

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/** Model documentation is HTML: plain text, whitespace collapsed, cut at a word boundary. */
function describe(html: string | undefined): string | undefined {
  if (!html) return undefined;
  const text = html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(?:lt|gt|amp|quot|#39|nbsp);/g, (e) => ENTITIES[e])
    .replace(/\s+/g, ' ')
    .replace(/ ([.,;:)])/g, '$1')
    .trim();
  if (!text) return undefined;
  if (text.length <= MAX_DESCRIPTION) return text;
  const cut = text.slice(0, MAX_DESCRIPTION - 1);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 0 ? cut.lastIndexOf(' ') : cut.length)}…`;
}
