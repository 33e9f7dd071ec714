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
  if (value instanceof Date) return date(value);
  if (Array.isArray(value)) return value.map((v) => convert(v, date));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = convert(v, date);
    return out;
  }
  return value;
}
