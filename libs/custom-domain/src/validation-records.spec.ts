import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseValidationRecords } from '@apprunner/operation';
import { delegationRecords } from './validation-records';

const target = (name: string) => `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.acme.apprunner.test.`;

describe('CertificateValidationRecords of a new association', () => {
  it('delegates _acme-challenge of the domain and of its www companion, pending', () => {
    expect(delegationRecords('shop.example.com', true, 'apprunner.test')).toEqual([
      { Name: '_acme-challenge.shop.example.com.', Type: 'CNAME', Value: target('shop.example.com'), Status: 'PENDING_VALIDATION' },
      { Name: '_acme-challenge.www.shop.example.com.', Type: 'CNAME', Value: target('www.shop.example.com'), Status: 'PENDING_VALIDATION' },
    ]);
  });
  it('validates a wildcard at its base name (where ACME DNS-01 looks for it)', () => {
    expect(delegationRecords('*.example.com', false, 'apprunner.test')).toEqual([
      { Name: '_acme-challenge.example.com.', Type: 'CNAME', Value: target('example.com'), Status: 'PENDING_VALIDATION' },
    ]);
  });
  it('are returned as stored, in App Runner’s shape (what is not a record is left out)', () => {
    const stored = JSON.parse(JSON.stringify([...delegationRecords('a.example.com', false, 'apprunner.test'), { Name: 'x' }, null]));
    expect(parseValidationRecords(stored)).toEqual(delegationRecords('a.example.com', false, 'apprunner.test'));
  });
});
