import { describe, expect, it } from 'vitest';
import { toJobJSON } from '../src/index.ts';

describe('toJobJSON', () => {
  it('makes details JSON-safe and drops stacks', () => {
    const json = toJobJSON({
      id: 'j1',
      name: 'n',
      status: 'dead',
      args: [1n, new Map([['a', new Set([1])]]), undefined],
      result: undefined,
      error: {
        name: 'Error',
        message: 'm',
        stack: 'at x',
        cause: { name: 'E', message: 'c', stack: 'at y' },
      },
      attempt: 1,
      maxAttempts: 3,
      idempotencyKey: null,
      parentId: null,
      createdAt: new Date(0),
      runAt: new Date(0),
      startedAt: null,
      completedAt: new Date(1000),
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      id: 'j1',
      name: 'n',
      status: 'dead',
      args: ['1', { a: [1] }, null],
      result: null,
      error: { name: 'Error', message: 'm', cause: { name: 'E', message: 'c' } },
      attempt: 1,
      maxAttempts: 3,
      idempotencyKey: null,
      parentId: null,
      createdAt: '1970-01-01T00:00:00.000Z',
      runAt: '1970-01-01T00:00:00.000Z',
      startedAt: null,
      completedAt: '1970-01-01T00:00:01.000Z',
    });
  });
});
