import { describe, expect, it } from 'vitest';
import { cidrIntersection, cidrWithin, parseCidr } from './cidr';

describe('CIDR arithmetic', () => {
  it('parses IPv4 and IPv6 blocks and refuses nonsense', () => {
    expect(parseCidr('10.1.0.0/16')).toMatchObject({ family: 4, prefix: 16 });
    expect(parseCidr('fd00::/8')).toMatchObject({ family: 6, prefix: 8 });
    expect(parseCidr('2001:db8:0:0:0:0:0:1/128')).toMatchObject({ family: 6, prefix: 128 });
    for (const bad of ['10.1.0.0', '10.1.0.256/16', '10.1.0.0/33', 'fd00::/129', 'fd00:::1/64', 'x/8', '1:2:3:4:5:6:7:8:9/64'])
      expect(parseCidr(bad), bad).toBeUndefined();
  });
  it('knows when a block lies within another', () => {
    expect(cidrWithin(parseCidr('10.1.2.0/24')!, parseCidr('10.1.0.0/16')!)).toBe(true);
    expect(cidrWithin(parseCidr('10.2.2.0/24')!, parseCidr('10.1.0.0/16')!)).toBe(false);
    expect(cidrWithin(parseCidr('10.1.0.0/16')!, parseCidr('10.1.2.0/24')!)).toBe(false);
    expect(cidrWithin(parseCidr('10.1.0.0/16')!, parseCidr('0.0.0.0/0')!)).toBe(true);
    expect(cidrWithin(parseCidr('fd00:1::/32')!, parseCidr('fd00::/8')!)).toBe(true);
    expect(cidrWithin(parseCidr('fd00:1::/32')!, parseCidr('10.0.0.0/8')!)).toBe(false);
  });
  it('intersects sets of blocks, keeping the narrower of nested ones', () => {
    expect(cidrIntersection(['10.1.0.0/16', '10.9.0.0/16'], ['0.0.0.0/0'])).toEqual(['10.1.0.0/16', '10.9.0.0/16']);
    expect(cidrIntersection(['10.1.0.0/16'], ['10.1.5.0/24', '192.168.0.0/16'])).toEqual(['10.1.5.0/24']);
    expect(cidrIntersection(['10.1.0.0/16'], ['10.2.0.0/16'])).toEqual([]);
  });
});
