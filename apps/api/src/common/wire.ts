import { walkJson } from '@apprunner/core';

/**
 * Output encodings. AWS JSON 1.0 carries timestamps as epoch seconds (the SDK and CLI parse
 * numbers); the REST API uses ISO-8601 strings. Undefined members are omitted in both.
 */
export function toAwsJson(value: unknown): unknown {
  return convert(value, (d) => d.getTime() / 1000);
}

export function toRestJson(value: unknown): unknown {
  return convert(value, (d) => d.toISOString());
}

function convert(value: unknown, date: (d: Date) => number | string): unknown {
  return walkJson<unknown>(value, {
    scalar: (v) => (v instanceof Date ? date(v) : v),
    array: (items) => items,
    object: (entries) => Object.fromEntries(entries.filter(([, v]) => v !== undefined)),
    tooDeep: () => undefined,
  });
}
