import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '@apprunner/core';
import { checkWildcard } from './custom-domain.service';

describe('custom domain names (App Runner guide: "Specifying a domain to associate")', () => {
  it('accepts plain names and a wildcard directly under a root domain', () => {
    for (const name of [
      'example.com',
      'login.example.com',
      'admin.login.example.com',
      '*.example.com',
      '*.example.co.uk',
      '*.example.test',
    ]) {
      expect(() => checkWildcard(name, name), name).not.toThrow();
    }
  });
  it('refuses the forms the guide lists as not valid, and wildcards under public suffixes', () => {
    for (const name of [
      '*.login.example.com',
      'login*.example.com',
      'log*in.example.com',
      '*.*.example.com',
      '*.co.uk',
      '*.com',
      '*',
      'a.*.example.com',
    ]) {
      expect(() => checkWildcard(name, name), name).toThrow(InvalidRequestException);
    }
  });
});
