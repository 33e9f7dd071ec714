/**
 * Label and field selectors as kube-apiserver parses them from `?labelSelector=` / `?fieldSelector=`, plus
 * matching of structured `metav1.LabelSelector` objects (`matchLabels` / `matchExpressions`).
 */
import { asArray, asRecord, asString, errors, isRecord, type KubeObject } from './types';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type Selector = (labels: Record<string, string> | undefined) => boolean;

/** Splits on commas that are not inside a `( ... )` value set. */
function splitTopLevel(input: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of input) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function parseRequirement(raw: string): Requirement {
  let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(raw);
  if (m) {
    const values = m[3]
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { op: m[2] === 'in' ? 'in' : 'notin', key: m[1], values };
  }
  m = /^!\s*([^\s=!<>]+)$/.exec(raw);
  if (m) return { op: 'notexists', key: m[1] };
  m = /^([^\s=!<>]+)\s*(==|=|!=)\s*([^\s=!<>]*)$/.exec(raw);
  if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3] };
  m = /^([^\s=!<>]+)\s*([<>])\s*(-?\d+)$/.exec(raw);
  if (m) return { op: m[2] === '>' ? 'gt' : 'lt', key: m[1], value: Number(m[3]) };
  m = /^([^\s=!<>()]+)$/.exec(raw);
  if (m) return { op: 'exists', key: m[1] };
  throw errors.badRequest(`unable to parse requirement: found '${raw}', expected: in, notin, =, ==, !=, gt, lt`);
}

function matches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  switch (r.op) {
    case 'eq':
      return has && value === r.value;
    case 'neq':
      return !has || value !== r.value;
    case 'exists':
      return has;
    case 'notexists':
      return !has;
    case 'in':
      return has && r.values.includes(value);
    case 'notin':
      return !has || !r.values.includes(value);
    case 'gt':
      return has && /^-?\d+$/.test(value) && Number(value) > r.value;
    case 'lt':
      return has && /^-?\d+$/.test(value) && Number(value) < r.value;
  }
}

/** Parses a `labelSelector` query value; an empty or absent selector matches everything. Throws 400 on syntax errors. */
export function parseLabelSelector(input: string | undefined | null): Selector {
  if (!input) return () => true;
  const requirements = splitTopLevel(input).map(parseRequirement);
  return (labels) => requirements.every((r) => matches(r, labels ?? {}));
}

/** Reads a dotted field path (`metadata.name`, `status.phase`) as a string, for field selectors. */
function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) cur = isRecord(cur) ? cur[part] : undefined;
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

/**
 * Parses a `fieldSelector` (`metadata.name=x,metadata.namespace!=y`). kube-apiserver only supports a few fields per
 * resource; the fake accepts any dotted path and compares its string form.
 */
export function parseFieldSelector(input: string | undefined | null): (obj: KubeObject) => boolean {
  if (!input) return () => true;
  const terms = input
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => {
      const m = /^([A-Za-z0-9_.-]+)\s*(==|=|!=)\s*(.*)$/.exec(t);
      if (!m) throw errors.badRequest(`invalid selector: '${input}'; can't understand '${t}'`);
      return { path: m[1], negate: m[2] === '!=', value: m[3] };
    });
  return (obj) => terms.every((t) => (fieldValue(obj, t.path) === t.value) !== t.negate);
}

/**
 * Matches a structured `metav1.LabelSelector`. Like the API machinery, an empty selector (`{}`) matches everything
 * and a missing one matches nothing.
 */
export function matchesLabelSelector(selector: unknown, labels: Record<string, string> | undefined): boolean {
  if (!isRecord(selector)) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(asRecord(selector.matchLabels))) if (have[k] !== v) return false;
  for (const raw of asArray(selector.matchExpressions)) {
    const e = asRecord(raw);
    const key = asString(e.key) ?? '';
    const values = asArray(e.values).filter((v): v is string => typeof v === 'string');
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' } as const)[asString(e.operator) ?? ''];
    if (!op) return false;
    const requirement: Requirement = op === 'in' || op === 'notin' ? { op, key, values } : { op, key };
    if (!matches(requirement, have)) return false;
  }
  return true;
}

/** The string form of a structured selector (`a=b,c in (d)`), as `Scale.status.selector` reports it. */
export function formatLabelSelector(selector: unknown): string {
  const s = asRecord(selector);
  const parts = Object.entries(asRecord(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const raw of asArray(s.matchExpressions)) {
    const e = asRecord(raw);
    const key = asString(e.key) ?? '';
    const values = asArray(e.values).map(String).join(',');
    if (e.operator === 'In') parts.push(`${key} in (${values})`);
    if (e.operator === 'NotIn') parts.push(`${key} notin (${values})`);
    if (e.operator === 'Exists') parts.push(key);
    if (e.operator === 'DoesNotExist') parts.push(`!${key}`);
  }
  return parts.join(',');
}
