import { describe, expect, it } from 'vitest';
import { automaticDeploymentSchema, parseColumn, toJsonColumn } from './json-columns';

describe('JSON columns', () => {
  it('store what JSON keeps of a value: no undefined members, dates as ISO strings', () => {
    expect(toJsonColumn({ a: 1, b: undefined, c: [1, null, 'x'], d: new Date('2026-01-02T03:04:05.000Z') })).toEqual({
      a: 1,
      c: [1, null, 'x'],
      d: '2026-01-02T03:04:05.000Z',
    });
    // A column that holds nothing is SQL NULL, never a JSON null written by accident.
    expect(() => toJsonColumn(null)).toThrow();
  });

  it('are read with their schema, and a value that does not fit names the column', () => {
    expect(
      parseColumn(automaticDeploymentSchema, { trigger: 'image-poll', image: 'r/x@sha256:1' }, 'Service s: pendingDeployment'),
    ).toEqual({
      trigger: 'image-poll',
      image: 'r/x@sha256:1',
    });
    expect(() => parseColumn(automaticDeploymentSchema, { trigger: 'cron' }, 'Service s: pendingDeployment')).toThrow(
      /^Service s: pendingDeployment does not hold what it should/,
    );
  });
});
