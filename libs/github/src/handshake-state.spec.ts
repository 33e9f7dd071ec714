import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signHandshakeState, verifyHandshakeState } from './handshake-state';

const key = randomBytes(32);
const now = new Date('2026-03-01T12:00:00Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

describe('handshake state', () => {
  it('round-trips the connection id and is URL-safe', () => {
    const state = signHandshakeState(key, 'c0ffee-connection-1', now);
    expect(state).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(encodeURIComponent(state)).toBe(state);
    expect(verifyHandshakeState(key, state, later(60))).toEqual({ connectionId: 'c0ffee-connection-1' });
  });

  it('rejects a state whose connection id was swapped', () => {
    const state = signHandshakeState(key, 'connection-a', now);
    const other = signHandshakeState(key, 'connection-b', now);
    const [v, , exp, mac] = state.split('.');
    const swapped = [v, other.split('.')[1], exp, mac].join('.');
    expect(verifyHandshakeState(key, swapped, now)).toEqual({ error: expect.stringMatching(/signature/) });
  });

  it('rejects a state whose expiry was pushed out', () => {
    const state = signHandshakeState(key, 'connection-a', now, 60);
    const [v, id, exp, mac] = state.split('.');
    const extended = [v, id, String(Number(exp) + 86_400), mac].join('.');
    expect(verifyHandshakeState(key, extended, later(120))).toEqual({ error: expect.stringMatching(/signature/) });
  });

  it('rejects a state with a flipped signature byte', () => {
    const state = signHandshakeState(key, 'connection-a', now);
    const last = state.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${state.slice(0, -2)}${last}${state.at(-1)}`;
    expect(verifyHandshakeState(key, tampered, now)).toEqual({ error: expect.stringMatching(/signature/) });
  });

  it('expires after the TTL (default one hour)', () => {
    const state = signHandshakeState(key, 'connection-a', now);
    expect(verifyHandshakeState(key, state, later(3_599))).toEqual({ connectionId: 'connection-a' });
    expect(verifyHandshakeState(key, state, later(3_600))).toEqual({ error: expect.stringMatching(/expired/) });
    const short = signHandshakeState(key, 'connection-a', now, 30);
    expect(verifyHandshakeState(key, short, later(31))).toEqual({ error: expect.stringMatching(/expired/) });
  });

  it('rejects a state signed with another key, even when expired (signature first, no expiry oracle)', () => {
    const state = signHandshakeState(randomBytes(32), 'connection-a', now);
    expect(verifyHandshakeState(key, state, now)).toEqual({ error: expect.stringMatching(/signature/) });
    expect(verifyHandshakeState(key, state, later(7_200))).toEqual({ error: expect.stringMatching(/signature/) });
  });

  it('rejects malformed states without throwing', () => {
    for (const bad of ['', 'v1', 'v1.a.b.c', 'v2.YQ.1.AAAA', 'v1.YQ.12.', 'v1..99999999999.AAAA', 'x'.repeat(5000)]) {
      expect(verifyHandshakeState(key, bad, now)).toHaveProperty('error');
    }
  });

  it('refuses short keys and bad TTLs', () => {
    expect(() => signHandshakeState(Buffer.alloc(8), 'c', now)).toThrow(/at least 16 bytes/);
    expect(() => verifyHandshakeState(Buffer.alloc(0), 'v1.YQ.1.AA', now)).toThrow(/at least 16 bytes/);
    expect(() => signHandshakeState(key, 'c', now, 0)).toThrow(/TTL/);
    expect(() => signHandshakeState(key, '', now)).toThrow(/connection id/);
  });
});
