import { InvalidRequestException } from './errors';

/**
 * Request JSON is never nested deeper than this anywhere in the platform. App Runner's deepest input is 6 levels
 * (CreateService → SourceConfiguration → CodeRepository → CodeConfiguration → CodeConfigurationValues → a map), so
 * 16 leaves room for unknown members while keeping every walk over request JSON far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 16;

/**
 * The deepest nesting of objects and arrays in JSON text, counted without parsing (iteratively, so a hostile
 * `[[[[…` cannot overflow anything), stopping as soon as `limit` is passed. Strings are skipped with their escapes.
 */
export function jsonNestingDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest && (deepest = depth) > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** JSON text → value, refusing syntax errors and nesting deeper than `maxDepth` as the caller's error (400). */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH, what = 'The request body'): unknown {
  if (jsonNestingDepth(text, maxDepth) > maxDepth) {
    throw new InvalidRequestException(`${what} is nested more than ${maxDepth} levels deep.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidRequestException(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  // JSON's \ud800 escapes can spell strings that are not Unicode; no store (PostgreSQL text, jsonb) accepts them.
  if (!wellFormed(value, maxDepth))
    throw new InvalidRequestException(`${what} holds a string that is not valid Unicode (an unpaired surrogate).`);
  return value;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wellFormed(value: unknown, maxDepth: number): boolean {
  return walkJson<boolean>(
    value,
    {
      scalar: (v) => typeof v !== 'string' || !LONE_SURROGATE.test(v),
      array: (items) => items.every(Boolean),
      object: (entries) => entries.every(([k, ok]) => ok && !LONE_SURROGATE.test(k)),
      tooDeep: () => true,
    },
    maxDepth + 1,
  );
}

/** What a walk does at each value; only `scalar`, `array` and `object` are required. */
export interface JsonVisitor<T> {
  /** Looked at first, with the member name the value sits under: a result replaces the whole subtree (redaction). */
  replace?(value: unknown, key: string | undefined): { value: T } | undefined;
  scalar(value: unknown): T;
  array(items: T[]): T;
  object(entries: [string, T][]): T;
  /** A container below `maxDepth`: its contents are not visited. */
  tooDeep(value: unknown): T;
}

/**
 * The one walk over JSON-like values (request bodies, audit copies, error renderings). Its recursion is bounded by
 * `maxDepth`, so no input can exhaust the stack; what lies deeper is handed to `tooDeep` unvisited.
 */
export function walkJson<T>(value: unknown, visitor: JsonVisitor<T>, maxDepth = MAX_JSON_DEPTH): T {
  const walk = (v: unknown, key: string | undefined, depth: number): T => {
    const replaced = visitor.replace?.(v, key);
    if (replaced) return replaced.value;
    if (v === null || typeof v !== 'object' || v instanceof Date) return visitor.scalar(v);
    if (depth >= maxDepth) return visitor.tooDeep(v);
    if (Array.isArray(v)) return visitor.array(v.map((item) => walk(item, undefined, depth + 1)));
    const entries: [string, T][] = [];
    for (const [k, item] of Object.entries(v)) entries.push([k, walk(item, k, depth + 1)]);
    return visitor.object(entries);
  };
  return walk(value, undefined, 0);
}

/** A copy of a JSON-like value cut at `maxDepth` (deeper containers become `cut`). */
export function boundedCopy(value: unknown, maxDepth = MAX_JSON_DEPTH, cut: unknown = '[nested too deeply]'): unknown {
  return walkJson<unknown>(
    value,
    {
      scalar: (v) => v,
      array: (items) => items,
      object: (entries) => Object.fromEntries(entries),
      tooDeep: () => cut,
    },
    maxDepth,
  );
}
