/**
 * The model's `pattern`s are Java regular expressions that App Runner matches against the whole value,
 * so we anchor them as `^(?:pattern)$`. This turns one into an equivalent JavaScript RegExp, or
 * `undefined` when it uses Java-only syntax (then the constraint is skipped rather than enforced wrongly).
 */
export interface JsPattern {
  /** Anchored source, also usable as a JSON Schema `pattern` when `flags` is 'u'. */
  readonly source: string;
  readonly flags: '' | 'u';
  readonly regex: RegExp;
}

// Letter escapes JavaScript understands; Java's \A \z \Z \Q \E \G \R \h \X ... would silently mean the letter itself.
const JS_LETTER_ESCAPES = new Set('dDwWsSbBnrtfvcxupPk');
// Characters an escape may precede in `u` mode (syntax characters, '/', and '-' inside a class).
const U_ESCAPABLE = new Set('^$\\.*+?()[]{}|/-');

export function toJsPattern(pattern: string): JsPattern | undefined {
  let body = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '\\' || i + 1 === pattern.length) {
      body += c;
      continue;
    }
    const next = pattern[++i];
    if (/[A-Za-z]/.test(next) && !JS_LETTER_ESCAPES.has(next)) return undefined;
    // Java allows escaping any punctuation (`\:`); `u` mode rejects that, and the escape means the character itself.
    body += /[A-Za-z0-9]/.test(next) || U_ESCAPABLE.has(next) ? `\\${next}` : next;
  }
  const source = `^(?:${body})$`;
  // `u` first: code-point semantics like Java, and required for \p{...}.
  try {
    return { source, flags: 'u', regex: new RegExp(source, 'u') };
  } catch {
    if (/\\[pP]/.test(body)) return undefined; // without `u`, \p{L} would mean "p{L}"
  }
  try {
    return { source, flags: '', regex: new RegExp(source) };
  } catch {
    return undefined;
  }
}
