/** Just enough CIDR arithmetic for egress policies: parsing, and whether one block lies inside another. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
  text: string;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseCidr(text: string): Cidr | undefined {
  const v4 = V4.exec(text);
  if (v4) {
    const octets = v4.slice(1, 5).map(Number);
    const prefix = Number(v4[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const base = octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
    return { family: 4, base, prefix, text };
  }
  const slash = text.lastIndexOf('/');
  if (slash < 0 || !text.includes(':')) return undefined;
  const prefix = Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128 || text.slice(slash + 1) === '') return undefined;
  const groups = expandV6(text.slice(0, slash));
  if (!groups) return undefined;
  return { family: 6, base: groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n), prefix, text };
}

function expandV6(address: string): number[] | undefined {
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ([...head, ...tail].some(Number.isNaN) || (halves.length === 1 ? missing !== 0 : missing < 1)) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** Whether `inner` lies entirely within `outer` (same family, longer or equal prefix, same network bits). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.family !== outer.family || inner.prefix < outer.prefix) return false;
  const bits = BigInt(inner.family === 4 ? 32 : 128);
  const shift = bits - BigInt(outer.prefix);
  return inner.base >> shift === outer.base >> shift;
}

/** The blocks both sets cover, where one block of a pair contains the other (the narrower one is kept). */
export function cidrIntersection(a: string[], b: string[]): string[] {
  const out = new Set<string>();
  for (const x of a.map(parseCidr)) {
    for (const y of b.map(parseCidr)) {
      if (!x || !y) continue;
      if (cidrWithin(x, y)) out.add(x.text);
      else if (cidrWithin(y, x)) out.add(y.text);
    }
  }
  return [...out];
}
