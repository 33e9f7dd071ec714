import { describe, expect, it } from 'vitest';
import { operationEnd } from './operation.transitions';

describe('operationEnd (App Runner service state machine)', () => {
  it.each([
    ['CREATE_SERVICE', 'NONE', 'RUNNING'],
    ['UPDATE_SERVICE', 'RUNNING', 'RUNNING'],
    ['UPDATE_SERVICE', 'CREATE_FAILED', 'RUNNING'],
    ['START_DEPLOYMENT', 'RUNNING', 'RUNNING'],
    ['PAUSE_SERVICE', 'RUNNING', 'PAUSED'],
    ['RESUME_SERVICE', 'PAUSED', 'RUNNING'],
    ['DELETE_SERVICE', 'PAUSED', 'DELETED'],
  ] as const)('%s from %s succeeds into %s', (type, from, to) => {
    expect(operationEnd(type, from, { status: 'SUCCEEDED' })).toEqual({
      operationStatus: 'SUCCEEDED',
      serviceStatus: to,
      restoreSpec: false,
    });
  });

  it.each([
    ['CREATE_SERVICE', 'NONE', 'FAILED', 'CREATE_FAILED', false],
    ['UPDATE_SERVICE', 'RUNNING', 'ROLLBACK_SUCCEEDED', 'RUNNING', true],
    ['START_DEPLOYMENT', 'RUNNING', 'ROLLBACK_SUCCEEDED', 'RUNNING', true],
    ['UPDATE_SERVICE', 'CREATE_FAILED', 'FAILED', 'CREATE_FAILED', false],
    ['PAUSE_SERVICE', 'RUNNING', 'FAILED', 'RUNNING', false],
    ['RESUME_SERVICE', 'PAUSED', 'FAILED', 'PAUSED', false],
    ['DELETE_SERVICE', 'RUNNING', 'FAILED', 'DELETE_FAILED', false],
  ] as const)('%s from %s fails as %s leaving %s', (type, from, op, service, restore) => {
    expect(operationEnd(type, from, { status: 'FAILED' })).toEqual({ operationStatus: op, serviceStatus: service, restoreSpec: restore });
  });

  it('reports a failed rollback', () => {
    expect(operationEnd('UPDATE_SERVICE', 'RUNNING', { status: 'FAILED', rollbackFailed: true }).operationStatus).toBe('ROLLBACK_FAILED');
  });
});
