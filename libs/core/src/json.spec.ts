import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from './errors';
import { boundedCopy, jsonNestingDepth, MAX_JSON_DEPTH, parseJsonText, walkJson } from './json';

const deepText = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepValue = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
};

describe('request JSON', () => {
  it('measures nesting without parsing, ignoring brackets inside strings and escaped quotes', () => {
    expect(jsonNestingDepth('{}')).toBe(1);
    expect(jsonNestingDepth('[{"a":[1]}]')).toBe(3);
    expect(jsonNestingDepth('{"a":"[[[{{{\\"[[["}')).toBe(1);
    expect(jsonNestingDepth('"\\\\"')).toBe(0);
    expect(jsonNestingDepth(deepText(1_000_000), 16)).toBe(17); // stops as soon as the limit is passed
  });

  it('refuses nesting past the limit and syntax errors as the caller’s error', () => {
    expect(parseJsonText(deepText(MAX_JSON_DEPTH - 1))).toBeTruthy();
    expect(() => parseJsonText(deepText(MAX_JSON_DEPTH + 1))).toThrow(InvalidRequestException);
    expect(() => parseJsonText(deepText(200_000))).toThrow(/nested more than 16 levels deep/);
    expect(() => parseJsonText('{"a":')).toThrow(/not valid JSON/);
  });

  it('walks any value within a bounded depth, handing deeper containers to tooDeep', () => {
    const copy = boundedCopy(deepValue(500_000), 3, 'CUT');
    expect(copy).toEqual({ a: [{ a: 'CUT' }] });
    const rendered = walkJson<string>(deepValue(500_000), {
      scalar: String,
      array: (items) => `[${items.join()}]`,
      object: (entries) => `{${entries.map(([k, v]) => `${k}=${v}`).join()}}`,
      tooDeep: () => '…',
    });
    expect(rendered.length).toBeLessThan(100);
  });

  it('lets replace() redact a subtree by member name', () => {
    const out = walkJson<unknown>(
      { keep: 1, secret: { deep: deepValue(10) } },
      {
        replace: (_v, key) => (key === 'secret' ? { value: '***' } : undefined),
        scalar: (v) => v,
        array: (items) => items,
        object: (entries) => Object.fromEntries(entries),
        tooDeep: () => 'cut',
      },
    );
    expect(out).toEqual({ keep: 1, secret: '***' });
  });
});

describe('request JSON: Unicode', () => {
  it('refuses strings and member names with unpaired surrogates, accepts paired ones', () => {
    expect(parseJsonText('{"a":"\\ud83d\\ude42"}')).toEqual({ a: '🙂' });
    for (const text of ['{"a":"\\ud800"}', '{"a":["x","\\udfff"]}', '{"\\ud800":1}', '"\\ude42\\ud83d"']) {
      expect(() => parseJsonText(text), text).toThrow(/not valid Unicode/);
    }
  });
});
