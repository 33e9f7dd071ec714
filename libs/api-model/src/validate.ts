import { InvalidRequestException } from '../../core/src/errors';
import { walkJson } from '../../core/src/json';
import { type ActionName, getShape, inputShapeName, memberPathName, type Shape, SHAPE_NAMES } from './model';
import { toJsPattern } from './pattern';

/**
 * App Runner's input validation, driven by the service model: types, required members, length,
 * pattern, enum and range constraints, reported as AWS does:
 *   `2 validation errors detected: Value null at 'serviceName' failed to satisfy constraint: Member must not be null; ...`
 *
 * Choices (AWS documents none of them for JSON; these are ours):
 * - Paths: lowerCamelCase members joined by '.'; list elements `tags.1.member` (1-based, Coral style);
 *   map values `runtimeEnvironmentVariables.KEY`, map keys `runtimeEnvironmentVariables.KEY.key` — but
 *   when the key shape is sensitive (both maps of this model) the key is replaced by its 1-based entry
 *   position (`runtimeEnvironmentVariables.2`), so a sensitive key never appears in a message.
 * - At most one constraint violation per value, checked in order type → length → pattern → enum → range
 *   (so `ServiceName: 'ab'` is one error, a length error, though it also misses the pattern).
 * - A wrong JSON type is a violation like the others: `Member must be an integer|a number|a string|a boolean|
 *   an array|an object|a timestamp in epoch seconds`. integer = int32, long = safe integer.
 * - String length counts Unicode code points (Smithy's definition), not UTF-16 units.
 * - Order: a structure's required members first (as listed in `required`), then the others in model order.
 * - Unknown members are ignored; a null member is treated as absent (AWS JSON does the same).
 * - Sensitive shapes, and lists/maps holding them, are reported as `Value at '...'` without the value.
 */

type Check = (value: unknown, path: string, errors: string[]) => void;

/** Every violation message for `input` (order above); empty when the input is valid. */
export function validationErrors(action: ActionName, input: unknown): string[] {
  const errors: string[] = [];
  const value = input ?? {};
  if (!isObject(value)) errors.push('The request body must be a JSON object');
  else checkFor(inputShapeName(action))(value, '', errors);
  return errors;
}

/**
 * Throws InvalidRequestException with every violation (the error class caps the message at 600 characters); returns
 * the input as the model knows it: unknown members (which App Runner ignores) and null members dropped at every
 * level, so no handler, record or audit copy ever holds a member the model does not define.
 */
export function validateInput<T = Record<string, unknown>>(action: ActionName, input: unknown): T {
  const errors = validationErrors(action, input);
  if (errors.length > 0) {
    throw new InvalidRequestException(`${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
  }
  return modeled(inputShapeName(action), input ?? {}) as T;
}

/** The modeled part of a value that passed validation (so its depth is the model's, at most). */
function modeled(shapeName: string, value: unknown): unknown {
  const shape = getShape(shapeName);
  switch (shape.type) {
    case 'structure': {
      const source = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [member, ref] of Object.entries(shape.members)) {
        const v = source[member];
        if (v !== undefined && v !== null) out[member] = modeled(ref.shape, v);
      }
      return out;
    }
    case 'list':
      return (value as unknown[]).map((item) => modeled(shape.member.shape, item));
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, modeled(shape.value.shape, v)]));
    default:
      return value;
  }
}

// One compiled checker per shape, built on first use (the hot path then only runs closures).
const checks = new Map<string, Check>();

function checkFor(shapeName: string): Check {
  const cached = checks.get(shapeName);
  if (cached) return cached;
  // Placeholder first, so a recursive shape refers to itself instead of recursing forever while compiling
  // (compiling only builds closures, so `compiled` is initialised before the placeholder ever runs).
  checks.set(shapeName, (v, p, e) => compiled(v, p, e));
  const compiled = compile(shapeName, getShape(shapeName));
  checks.set(shapeName, compiled);
  return compiled;
}

function compile(name: string, shape: Shape): Check {
  const hidden = hidesValue(shape);
  const fail = (value: unknown, path: string, constraint: string) =>
    `Value${hidden ? '' : ` '${render(value)}'`} at '${path}' failed to satisfy constraint: ${constraint}`;

  switch (shape.type) {
    case 'structure': {
      const required = new Set(shape.required ?? []);
      // Required members first, then the rest: the order of App Runner's API reference (botocore sorts members).
      const ordered = [...required, ...Object.keys(shape.members).filter((m) => !required.has(m))];
      const members = ordered.map((member) => ({
        name: member,
        segment: memberPathName(member),
        required: required.has(member),
        check: checkFor(shape.members[member].shape),
      }));
      return (value, path, errors) => {
        if (!isObject(value)) return void errors.push(fail(value, path, 'Member must be an object'));
        for (const m of members) {
          const v = value[m.name];
          const p = join(path, m.segment);
          if (v !== undefined && v !== null) m.check(v, p, errors);
          else if (m.required) errors.push(notNull(p));
        }
      };
    }
    case 'list': {
      const element = checkFor(shape.member.shape);
      const { min, max } = shape;
      return (value, path, errors) => {
        if (!Array.isArray(value)) return void errors.push(fail(value, path, 'Member must be an array'));
        const size = sizeViolation(value.length, min, max);
        if (size) errors.push(fail(value, path, size));
        for (let i = 0; i < value.length; i++) {
          const p = `${join(path, String(i + 1))}.member`;
          if (value[i] === null || value[i] === undefined) errors.push(notNull(p));
          else element(value[i], p, errors);
        }
      };
    }
    case 'map': {
      const keyCheck = checkFor(shape.key.shape);
      const valueCheck = checkFor(shape.value.shape);
      const keyHidden = hidesValue(getShape(shape.key.shape));
      const { min, max } = shape;
      return (value, path, errors) => {
        if (!isObject(value)) return void errors.push(fail(value, path, 'Member must be an object'));
        const keys = Object.keys(value);
        const size = sizeViolation(keys.length, min, max);
        if (size) errors.push(fail(value, path, size));
        for (let i = 0; i < keys.length; i++) {
          const p = join(path, keyHidden ? String(i + 1) : keys[i]);
          keyCheck(keys[i], `${p}.key`, errors);
          const v = value[keys[i]];
          if (v === null || v === undefined) errors.push(notNull(p));
          else valueCheck(v, p, errors);
        }
      };
    }
    case 'string': {
      const { min, max, pattern, enum: values } = shape;
      const regex = PATTERNS.get(name);
      const allowed = values ? new Set(values) : undefined;
      const needsLength = min !== undefined || max !== undefined;
      return (value, path, errors) => {
        if (typeof value !== 'string') return void errors.push(fail(value, path, 'Member must be a string'));
        const size = needsLength ? sizeViolation(codePoints(value), min, max) : undefined;
        if (size) errors.push(fail(value, path, size));
        else if (regex && !regex.test(value)) errors.push(fail(value, path, `Member must satisfy regular expression pattern: ${pattern}`));
        else if (allowed && !allowed.has(value))
          errors.push(fail(value, path, `Member must satisfy enum value set: [${[...allowed].join(', ')}]`));
      };
    }
    case 'blob': // base64 in AWS JSON
      return (value, path, errors) => {
        if (typeof value !== 'string') errors.push(fail(value, path, 'Member must be a string'));
      };
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      const { min, max } = shape;
      const [isValid, expected] =
        shape.type === 'integer'
          ? [(n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647, 'Member must be an integer']
          : shape.type === 'long'
            ? [Number.isSafeInteger, 'Member must be an integer']
            : [Number.isFinite, 'Member must be a number'];
      return (value, path, errors) => {
        if (typeof value !== 'number' || !isValid(value)) return void errors.push(fail(value, path, expected));
        if (min !== undefined && value < min) errors.push(fail(value, path, `Member must have value greater than or equal to ${min}`));
        else if (max !== undefined && value > max) errors.push(fail(value, path, `Member must have value less than or equal to ${max}`));
      };
    }
    case 'boolean':
      return (value, path, errors) => {
        if (typeof value !== 'boolean') errors.push(fail(value, path, 'Member must be a boolean'));
      };
    case 'timestamp':
      // AWS JSON 1.0 sends timestamps as epoch seconds (fractions allowed).
      return (value, path, errors) => {
        if (typeof value !== 'number' || !Number.isFinite(value))
          errors.push(fail(value, path, 'Member must be a timestamp in epoch seconds'));
      };
  }
}

// Every pattern of the model compiled once at load; those JavaScript cannot express are skipped, and listed
// here for visibility (none in the 2020-05-15 model).
const PATTERNS = new Map<string, RegExp>();
const skipped: string[] = [];
for (const name of SHAPE_NAMES) {
  const shape = getShape(name);
  if (shape.type !== 'string' || shape.pattern === undefined) continue;
  const compiled = toJsPattern(shape.pattern);
  if (compiled) PATTERNS.set(name, compiled.regex);
  else skipped.push(name);
}
/** Names of string shapes whose pattern is not enforced because JavaScript cannot compile it. */
export const SKIPPED_PATTERNS: readonly string[] = skipped;

function sizeViolation(size: number, min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && size < min) return `Member must have length greater than or equal to ${min}`;
  if (max !== undefined && size > max) return `Member must have length less than or equal to ${max}`;
  return undefined;
}

function notNull(path: string): string {
  return `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A sensitive shape, or a list/map that holds one, must not be echoed. */
function hidesValue(shape: Shape): boolean {
  if (shape.sensitive) return true;
  if (shape.type === 'list') return hidesValue(getShape(shape.member.shape));
  if (shape.type === 'map') return hidesValue(getShape(shape.key.shape)) || hidesValue(getShape(shape.value.shape));
  return false;
}

/** Unicode code points, without allocating (`[...s].length` would). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Values as AWS (Java) prints them: strings bare, lists `[a, b]`, objects `{k=v}`; long values shortened. The walk is
 * the platform's bounded one: a value nested deeper than RENDER_DEPTH shows as `{...}`/`[...]`, never overflowing.
 */
const RENDER_DEPTH = 8;
function render(value: unknown): string {
  const text = walkJson<string>(
    value,
    {
      scalar: (v) => String(v),
      array: (items) => `[${items.join(', ')}]`,
      object: (entries) => `{${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}`,
      tooDeep: (v) => (Array.isArray(v) ? '[...]' : '{...}'),
    },
    RENDER_DEPTH,
  );
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}
