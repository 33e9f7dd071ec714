import { describe, expect, it } from 'vitest';
import { type JSONSchema, openApiComponents, shapeToJsonSchema } from './json-schema';
import { ACTION_NAMES } from './model';

/** Every `$ref` inside a schema. */
function refs(schema: unknown): string[] {
  if (Array.isArray(schema)) return schema.flatMap(refs);
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema).flatMap(([k, v]) => (k === '$ref' ? [v as string] : refs(v)));
}

describe('shapeToJsonSchema', () => {
  it('describes CreateServiceRequest with required members, $refs and anchored patterns', () => {
    const schema = shapeToJsonSchema('CreateServiceRequest');
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['ServiceName', 'SourceConfiguration']);
    expect(schema.properties?.ServiceName).toMatchObject({
      type: 'string',
      minLength: 4,
      maxLength: 40,
      pattern: '^(?:[A-Za-z0-9][A-Za-z0-9-_]{3,39})$',
    });
    expect(schema.properties?.SourceConfiguration).toMatchObject({ $ref: '#/components/schemas/SourceConfiguration' });
    expect(schema.properties?.Tags).toMatchObject({ type: 'array', items: { $ref: '#/components/schemas/Tag' } });
    expect(schema.properties?.ServiceName.description).toMatch(/^A name for the App Runner service\./);
  });

  it('inlines numbers, enums, maps and sensitive strings', () => {
    expect(shapeToJsonSchema('CreateAutoScalingConfigurationRequest').properties?.MaxConcurrency).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 200,
    });
    expect(shapeToJsonSchema('ImageRepository').properties?.ImageRepositoryType).toMatchObject({
      type: 'string',
      enum: ['ECR', 'ECR_PUBLIC'],
    });
    const image = shapeToJsonSchema('ImageConfiguration');
    expect(image.properties?.StartCommand).toMatchObject({ type: 'string', pattern: '^(?:[^\\x0a\\x0d]+)$', 'x-sensitive': true });
    expect(image.properties?.RuntimeEnvironmentVariables).toMatchObject({
      type: 'object',
      propertyNames: { type: 'string', minLength: 1, 'x-sensitive': true },
      additionalProperties: { type: 'string', maxLength: 51200, 'x-sensitive': true },
    });
    expect(image.properties?.Port['x-sensitive']).toBeUndefined();
  });

  it('writes timestamps as epoch seconds', () => {
    const created = shapeToJsonSchema('Service').properties?.CreatedAt;
    expect(created?.type).toBe('number');
    expect(created?.description).toMatch(/epoch seconds/);
    expect(shapeToJsonSchema('Timestamp')).toEqual({ type: 'number', description: 'epoch seconds' });
  });
});

describe('openApiComponents', () => {
  const components = openApiComponents();

  it('has the request and response of all 37 actions, every structure they reach, and no exceptions', () => {
    for (const action of ACTION_NAMES) {
      expect(components[`${action}Request`]?.type, action).toBe('object');
      expect(components[`${action}Response`]?.type, action).toBe('object');
    }
    expect(Object.keys(components)).toHaveLength(108);
    expect(components.InvalidRequestException).toBeUndefined();
    for (const ref of refs(components)) expect(components[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
  });

  it('strips HTML from descriptions and keeps them short', () => {
    const descriptions: string[] = [];
    const collect = (s: JSONSchema | undefined): void => {
      if (!s) return;
      if (s.description) descriptions.push(s.description);
      Object.values(s.properties ?? {}).forEach(collect);
      [s.items, s.additionalProperties, s.propertyNames].forEach(collect);
    };
    Object.values(components).forEach(collect);
    expect(descriptions.length).toBeGreaterThan(300);
    for (const d of descriptions) {
      expect(d).not.toMatch(/<\/?[a-z][^>]*>/i);
      expect(d.length).toBeLessThanOrEqual(400);
      expect(d).toBe(d.trim());
    }
  });

  it('only emits patterns a JSON Schema (ECMA-262, u flag) validator compiles', () => {
    const patterns = JSON.stringify(components).match(/"pattern":"(?:[^"\\]|\\.)*"/g) ?? [];
    expect(patterns.length).toBeGreaterThan(20);
    for (const p of patterns) {
      const source = JSON.parse(`{${p}}`).pattern as string;
      expect(source).toMatch(/^\^\(\?:.*\)\$$/);
      expect(() => new RegExp(source, 'u')).not.toThrow();
    }
  });
});
