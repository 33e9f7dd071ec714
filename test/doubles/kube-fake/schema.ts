/**
 * A small structural-schema engine for custom resources served from a CRD's `openAPIV3Schema`: pruning of unknown
 * fields (what apiextensions-apiserver does instead of rejecting them) and validation of the keywords CRDs use in
 * practice: type, properties, required, items, additionalProperties, enum, nullable, minimum/maximum,
 * minLength/maxLength, pattern, minItems/maxItems, x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string.
 * CEL rules (`x-kubernetes-validations`), formats and `oneOf`/`anyOf` are not evaluated.
 */
import { asRecord, isRecord, type JsonObject, type StatusCause } from './types';

function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function typeMatches(type: unknown, value: unknown, schema: JsonObject): boolean {
  if (schema['x-kubernetes-int-or-string'] === true) return typeof value === 'string' || Number.isInteger(value);
  switch (type) {
    case 'object':
      return isRecord(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return true;
  }
}

/** Removes fields the schema does not declare (unless it preserves unknown fields). Root `metadata` is kept. */
export function pruneUnknown(value: unknown, schemaRaw: unknown, root = true): unknown {
  const schema = asRecord(schemaRaw);
  if (Array.isArray(value)) return value.map((v) => pruneUnknown(v, schema.items, false));
  if (!isRecord(value) || schema['x-kubernetes-preserve-unknown-fields'] === true) return value;
  const properties = asRecord(schema.properties);
  const additional = schema.additionalProperties;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) out[k] = v;
    else if (k in properties) out[k] = pruneUnknown(v, properties[k], false);
    else if (isRecord(additional)) out[k] = pruneUnknown(v, additional, false);
    else if (additional === true) out[k] = v;
  }
  return out;
}

const show = (v: unknown): string => JSON.stringify(v);

/** Validates `value` against a structural schema; returns one cause per violation. */
export function validateSchema(value: unknown, schemaRaw: unknown, path: (string | number)[] = []): StatusCause[] {
  const schema = asRecord(schemaRaw);
  const field = fieldPath(path);
  const causes: StatusCause[] = [];
  if (value === null) {
    if (schema.nullable !== true && path.length > 0)
      causes.push({
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: "null": ${field} in body must be of type ${String(schema.type)}: "null"`,
        field,
      });
    return causes;
  }
  if (schema.type !== undefined && !typeMatches(schema.type, value, schema)) {
    const actual = Array.isArray(value) ? 'array' : typeof value;
    return [
      {
        reason: 'FieldValueTypeInvalid',
        message: `Invalid value: "${actual}": ${field} in body must be of type ${String(schema.type)}: "${actual}"`,
        field,
      },
    ];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${show(value)}: supported values: ${schema.enum.map(show).join(', ')}`,
      field,
    });
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${value}: ${field} in body should be greater than or equal to ${schema.minimum}`,
        field,
      });
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${value}: ${field} in body should be less than or equal to ${schema.maximum}`,
        field,
      });
  }
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${show(value)}: ${field} in body should be at least ${schema.minLength} chars long`,
        field,
      });
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength)
      causes.push({ reason: 'FieldValueTooLong', message: `Too long: may not be longer than ${schema.maxLength}`, field });
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${show(value)}: ${field} in body should match '${schema.pattern}'`,
        field,
      });
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${value.length}: ${field} in body should have at least ${schema.minItems} items`,
        field,
      });
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      causes.push({ reason: 'FieldValueTooMany', message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`, field });
    value.forEach((item, i) => causes.push(...validateSchema(item, schema.items, [...path, i])));
  }
  if (isRecord(value)) {
    for (const req of Array.isArray(schema.required) ? schema.required : []) {
      if (typeof req === 'string' && value[req] === undefined)
        causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: fieldPath([...path, req]) });
    }
    const properties = asRecord(schema.properties);
    for (const [k, v] of Object.entries(value)) {
      if (path.length === 0 && k === 'metadata') continue;
      if (k in properties) causes.push(...validateSchema(v, properties[k], [...path, k]));
      else if (isRecord(schema.additionalProperties)) causes.push(...validateSchema(v, schema.additionalProperties, [...path, k]));
    }
  }
  return causes;
}
