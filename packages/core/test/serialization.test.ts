import { describe, expect, it } from 'vitest';
import { deserialize, SerializationError, serialize } from '../src/index.ts';

const roundTrip = (value: unknown) => deserialize(serialize(value));

describe('serialization', () => {
  it('round-trips Date, Map, Set, BigInt, undefined and nesting faithfully', () => {
    const value = {
      when: new Date('2026-01-02T03:04:05.678Z'),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2n, new Set([undefined, null])],
      ]),
      big: 2n ** 70n,
      missing: undefined,
      list: [undefined, Number.NaN, -0, Number.POSITIVE_INFINITY, { deep: [new Date(0)] }],
      bytes: new Uint8Array([1, 2, 255]),
      pattern: /a+b/gi,
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.when).toBeInstanceOf(Date);
    expect(Object.hasOwn(back, 'missing')).toBe(true);
    expect(Object.is(back.list[2], -0)).toBe(true);
    expect(back.map.get(2n)).toEqual(new Set([undefined, null]));
  });

  it('keeps plain objects that use the tag key as data', () => {
    const value = { $r: 'date', v: 5 };
    expect(roundTrip(value)).toEqual(value);
  });

  it('round-trips undefined as a whole value (void results)', () => {
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('refuses functions, symbols and cycles with the path of the bad value', () => {
    expect(() => serialize([1, { cb: () => 1 }], 'args')).toThrow(/args\[1\]\.cb is a function/);
    expect(() => serialize({ s: Symbol('x') })).toThrow(SerializationError);
    expect(() => serialize([{ m: new Map([['k', () => 1]]) }], 'args')).toThrow(
      /^args\[0\]\.m<value 0> is a function/,
    );
    expect(() => serialize([new Set([1, Symbol('y')])], 'args')).toThrow(
      /^args\[0\]<1> is a symbol/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serialize(cyclic)).toThrow(/circular/);
  });

  it('writes plain JSON as JSON.stringify does, and tags only what JSON cannot say', () => {
    const plain = { a: [1, 'two', { three: true, four: null }], b: -1.5, c: '' };
    expect(serialize(plain)).toBe(JSON.stringify(plain));
    // Each of these leaves the plain fast path somewhere deep down, and must still round-trip.
    for (const value of [
      { deep: [{ x: -0 }] },
      { deep: [{ $r: 'not a tag' }] },
      [1, undefined, 3],
      { when: new Date(0) },
      { nested: Object.assign(Object.create(null), { ok: 1 }) },
    ]) {
      expect(roundTrip(value)).toEqual(value);
    }
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deep = { next: deep };
    expect(roundTrip(deep)).toEqual(deep);
    const cyclic: unknown[] = [];
    cyclic.push({ again: cyclic });
    expect(() => serialize(cyclic, 'args')).toThrow(/^args\[0\]\.again is a circular reference/);
  });

  it('stores errors with name, message, code and cause', () => {
    const error = Object.assign(new TypeError('bad', { cause: new Error('root') }), {
      code: 'E_BAD',
    });
    const back = roundTrip(error) as Error & { code: string };
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('TypeError');
    expect(back.code).toBe('E_BAD');
    expect((back.cause as Error).message).toBe('root');
  });
});
