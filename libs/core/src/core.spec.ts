import { describe, expect, it } from 'vitest';
import {
  decodeNextToken,
  encodeNextToken,
  formatArn,
  InvalidRequestException,
  newAccountId,
  newResourceId,
  page,
  pageTake,
  parseArn,
} from './index';

describe('ARNs', () => {
  const scope = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };
  it('round-trips every App Runner resource type', () => {
    const arn = formatArn(scope, 'autoscalingconfiguration', 'high', 3, 'abc');
    expect(arn).toBe('arn:aws:apprunner:us-east-1:123456789012:autoscalingconfiguration/high/3/abc');
    expect(parseArn(arn)).toEqual({ ...scope, resourceType: 'autoscalingconfiguration', path: ['high', '3', 'abc'] });
  });
  it('rejects other services, unknown types, short accounts and empty segments', () => {
    expect(parseArn('arn:aws:s3:us-east-1:123456789012:service/a/b')).toBeUndefined();
    expect(parseArn('arn:aws:apprunner:us-east-1:123456789012:bucket/a')).toBeUndefined();
    expect(parseArn('arn:aws:apprunner:us-east-1:12345:service/a/b')).toBeUndefined();
    expect(parseArn('arn:aws:apprunner:us-east-1:123456789012:service/a//b')).toBeUndefined();
  });
});

describe('ids', () => {
  it('makes 32-hex resource ids and 12-digit account ids', () => {
    expect(newResourceId()).toMatch(/^[0-9a-f]{32}$/);
    for (let i = 0; i < 100; i++) expect(newAccountId()).toMatch(/^[1-9]\d{11}$/);
  });
});

describe('pagination', () => {
  it('pages with an opaque keyset token', () => {
    const rows = [1, 2, 3].map((n) => ({ n }));
    const first = page(rows, 2, (r) => [r.n]);
    expect(first.items).toEqual([{ n: 1 }, { n: 2 }]);
    expect(decodeNextToken(first.nextToken, ['revision'])).toEqual([2]);
    expect(page(rows, 3, (r) => [r.n]).nextToken).toBeUndefined();
  });
  it('without MaxResults, fetches and returns everything in one page (App Runner: "all available results")', () => {
    const rows = Array.from({ length: 250 }, (_, n) => ({ n }));
    expect(pageTake(undefined)).toBeUndefined();
    expect(pageTake(20)).toBe(21);
    expect(page(rows, undefined, (r) => [r.n])).toEqual({ items: rows });
  });
  it('rejects tampered tokens', () => {
    expect(() => decodeNextToken('not-a-token', ['string'])).toThrow(InvalidRequestException);
    expect(() => decodeNextToken(encodeNextToken(['a', 'b']), ['string'])).toThrow(/NextToken/);
  });
  it('rejects tokens whose keys do not fit the list (a query never sees a NaN revision, a bad date or a non-uuid id)', () => {
    const keyset = ['timestamp', 'uuid'] as const;
    const good = ['2026-01-02T03:04:05.678Z', '0b7c2f7e-9a49-4c59-9d59-5f1f0c1d2e3f'];
    expect(decodeNextToken(encodeNextToken(good), keyset)).toEqual(good);
    for (const bad of [
      ['2020-01-01T00:00:00.000Z', 'x'],
      ['not a date', good[1]],
      ['2020-13-45T00:00:00.000Z', good[1]],
      [1, good[1]],
    ]) {
      expect(() => decodeNextToken(encodeNextToken(bad), keyset), JSON.stringify(bad)).toThrow(InvalidRequestException);
    }
    expect(() => decodeNextToken(encodeNextToken(['name', 'x']), ['string', 'revision'])).toThrow(InvalidRequestException);
    expect(() => decodeNextToken(encodeNextToken(['name', 1.5]), ['string', 'revision'])).toThrow(InvalidRequestException);
  });
});
