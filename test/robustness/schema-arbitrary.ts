import fc from 'fast-check';

/** The subset of JSON Schema that App Runner's shapes (libs/api-model) and docs/openapi.json use. */
export interface Schema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: Schema | boolean;
  propertyNames?: Schema;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  format?: string;
}

export interface SchemaContext {
  /** `#/components/schemas/Name` → the schema. */
  resolve(ref: string): Schema;
  /**
   * Values for members a schema alone cannot aim (ARNs of existing resources, image references): by member name.
   * A pool value is used most of the time, the schema's own value otherwise.
   */
  pools?: Record<string, fc.Arbitrary<unknown>>;
  /** How often a value is replaced by a hostile one (0..1). */
  hostility: number;
}

const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

/** `{"a":{"a":…}}` or `[[…]]` nested `levels` deep (built iteratively). */
export function nested(levels: number, kind: 'object' | 'array' = 'object'): unknown {
  let value: unknown = 'x';
  for (let i = 0; i < levels; i++) value = kind === 'object' ? { a: value } : [value];
  return value;
}

/** Values of every JSON type, for members whose type is wrong. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -1e308, '', ' ', 'x', '0', 'true', [], {}, [null], { '': null }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** Hostile values of any type: deep nesting, huge strings, prototype keys, control and unpaired-surrogate strings. */
export const hostileAny: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  fc.integer({ min: 17, max: 3_000 }).chain((levels) => fc.constantFrom(nested(levels), nested(levels, 'array'))),
  fc.constantFrom(
    { ['__proto__']: { polluted: true } },
    { constructor: { prototype: { polluted: true } } },
    'x'.repeat(70_000),
    '\u0000\u0001\u001f',
    '\ud800',
    '\udfff\ud800',
    '../../etc/passwd',
    '%00%2e%2e',
    '${jndi:ldap://x}',
    "' OR 1=1 --",
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  ),
);

// Compiling a pattern into an arbitrary is costly: once per pattern.
const byPattern = new Map<string, fc.Arbitrary<string> | undefined>();
function patternArbitrary(schema: Schema): fc.Arbitrary<string> | undefined {
  if (!schema.pattern) return undefined;
  if (!byPattern.has(schema.pattern)) {
    let arb: fc.Arbitrary<string> | undefined;
    try {
      arb = fc.stringMatching(new RegExp(schema.pattern, 'u'));
      fc.sample(arb, { numRuns: 1, seed: 1 }); // unsupported syntax (lookahead) throws here
    } catch {
      arb = undefined;
    }
    byPattern.set(schema.pattern, arb);
  }
  return byPattern.get(schema.pattern);
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as string[]));
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 40, Math.max(min, 40));
  const fit = (s: string) => (s.length < min ? s.padEnd(min, 'a') : s.slice(0, max));
  const matching = patternArbitrary(schema);
  if (matching) return matching.map(fit);
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme-ascii' });
}

/** Values the schema admits (or nearly: a pattern fast-check cannot generate from is approximated). */
export function validValue(schema: Schema, ctx: SchemaContext, name?: string, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return validValue(ctx.resolve(schema.$ref), ctx, name, depth);
  const pool = name ? ctx.pools?.[name] : undefined;
  const own = ownValid(schema, ctx, depth);
  return pool ? fc.oneof({ weight: 4, arbitrary: pool }, { weight: 1, arbitrary: own }) : own;
}

function ownValid(schema: Schema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case 'object': {
      if (schema.properties) {
        const model = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, anyValue(s, ctx, k, depth + 1)]));
        return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in model) });
      }
      const values = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : {};
      const keys = schema.propertyNames ? stringArbitrary(schema.propertyNames) : fc.string({ minLength: 1, maxLength: 12 });
      return fc.dictionary(keys, anyValue(values, ctx, undefined, depth + 1), { maxKeys: 3 });
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      return fc.array(anyValue(schema.items ?? {}, ctx, undefined, depth + 1), {
        minLength: min,
        maxLength: Math.min(schema.maxItems ?? 3, min + 3),
      });
    }
    case 'string':
      return stringArbitrary(schema);
    case 'integer': {
      const min = schema.minimum ?? INT32.min;
      const max = schema.maximum ?? INT32.max;
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      return anyJson;
  }
}

/** Values of the schema's type that break exactly its constraints: lengths, patterns, enums, bounds, required members. */
export function invalidValue(schema: Schema, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return invalidValue(ctx.resolve(schema.$ref), ctx, depth);
  const broken: fc.Arbitrary<unknown>[] = [hostileAny];
  switch (schema.type) {
    case 'string': {
      const { minLength, maxLength } = schema;
      if (minLength !== undefined && minLength > 0) broken.push(fc.constant('a'.repeat(minLength - 1)));
      if (maxLength !== undefined) broken.push(fc.constantFrom('a'.repeat(maxLength + 1), 'é'.repeat(maxLength + 1)));
      if (schema.pattern) broken.push(fc.constantFrom(' ', '\n', 'ä', '..', '*', 'a b', '-', '_'.repeat(5), '🙂🙂🙂🙂'));
      if (schema.enum) broken.push(fc.constantFrom(...(schema.enum as string[]).map((v) => v.toLowerCase() + 'X'), ''));
      broken.push(fc.constantFrom(1, true, ['x'], { S: 'x' }));
      break;
    }
    case 'integer':
    case 'number': {
      const { minimum, maximum } = schema;
      if (minimum !== undefined) broken.push(fc.constantFrom(minimum - 1, minimum - 0.5));
      if (maximum !== undefined) broken.push(fc.constantFrom(maximum + 1, maximum + 0.5));
      broken.push(fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, 1e308, -1e308, 0.1, '5', 'NaN', true, [1]));
      break;
    }
    case 'boolean':
      broken.push(fc.constantFrom('true', 1, 0, 'yes', [true]));
      break;
    case 'array': {
      if (schema.minItems) broken.push(fc.constant([]));
      if (schema.maxItems !== undefined)
        broken.push(fc.array(validValue(schema.items ?? {}, ctx), { minLength: schema.maxItems + 1, maxLength: schema.maxItems + 1 }));
      broken.push(fc.array(anyJson, { minLength: 1, maxLength: 3 }), fc.constantFrom({}, 'x', [null]));
      break;
    }
    case 'object': {
      const required = schema.required ?? [];
      if (required.length > 0 && schema.properties) {
        broken.push(
          fc.tuple(ownValid(schema, { ...ctx, hostility: 0 }, depth), fc.constantFrom(...required)).map(([value, drop]) => {
            const copy = { ...(value as Record<string, unknown>) };
            delete copy[drop];
            return copy;
          }),
        );
      }
      // Unknown members, alone or next to valid ones.
      broken.push(
        fc
          .tuple(ownValid(schema, { ...ctx, hostility: 0 }, depth), fc.string({ minLength: 1, maxLength: 20 }), hostileAny)
          .map(([value, key, extra]) => ({
            ...(value as Record<string, unknown>),
            [key]: extra,
          })),
        fc.constantFrom([], 'x', [{}]),
      );
      break;
    }
  }
  return fc.oneof(...broken);
}

/**
 * Values of the schema under each of several hostility levels (one arbitrary, built once: building is the costly part).
 */
export function valuesOf(schema: Schema, contexts: SchemaContext[]): fc.Arbitrary<unknown> {
  return fc.oneof(...contexts.map((ctx) => anyValue(schema, ctx)));
}

/** A value of the schema, hostile with probability ctx.hostility at every level (so a request may break several ways). */
export function anyValue(schema: Schema, ctx: SchemaContext, name?: string, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 8) return validValue(schema, { ...ctx, hostility: 0 }, name, depth);
  const weight = Math.round(ctx.hostility * 100);
  if (weight <= 0) return validValue(schema, ctx, name, depth);
  return fc.oneof(
    { weight: 100 - weight, arbitrary: validValue(schema, ctx, name, depth) },
    { weight, arbitrary: invalidValue(schema, ctx, depth) },
  );
}
