import { describe, expect, it } from 'vitest';
import { toJobJSON, toJSONValue } from '../src/index.ts';

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
      scheduleId: 'reports:daily',
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
      waitingFor: { kind: 'signal', topic: 'plan', until: new Date(5) },
      progress: { done: 3, total: 10 },
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
      scheduleId: 'reports:daily',
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
      waitingFor: { kind: 'signal', topic: 'plan', until: '1970-01-01T00:00:00.005Z' },
      progress: { done: 3, total: 10 },
      createdAt: '1970-01-01T00:00:00.000Z',
      runAt: '1970-01-01T00:00:00.000Z',
      startedAt: null,
      completedAt: '1970-01-01T00:00:01.000Z',
    });
  });
});

describe('toJSONValue', () => {
  it('writes binary data, URLs and invalid dates as JSON a client can read', () => {
    const bytes = new Uint8Array([9, 1, 2, 3, 9]);
    const json = toJSONValue({
      floats: new Float64Array([1.5, Number.NaN]),
      big: new BigInt64Array([-1n]),
      view: new DataView(bytes.buffer, 1, 3),
      part: bytes.subarray(1, 4),
      buffer: new Uint8Array([1, 2, 3]).buffer,
      url: new URL('https://example.com/x'),
      never: new Date(Number.NaN),
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      floats: [1.5, 'NaN'],
      big: ['-1'],
      view: 'AQID',
      part: 'AQID',
      buffer: 'AQID',
      url: 'https://example.com/x',
      never: null,
    });
  });

  it('keeps an own __proto__ key as a key, never as a prototype', () => {
    const json = toJSONValue(JSON.parse('{"__proto__":{"isAdmin":true}}')) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect(json.isAdmin).toBeUndefined();
    expect(JSON.stringify(json)).toBe('{"__proto__":{"isAdmin":true}}');
  });
});
