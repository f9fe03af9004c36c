import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { deserialize, MAX_PAYLOAD_DEPTH, SerializationError, serialize } from '../src/index.ts';

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

/** `Object.prototype` must never gain keys from data: checked after every security test. */
function expectObjectPrototypeClean() {
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
}

describe('data never chooses a prototype', () => {
  // What `JSON.parse` and `express.json()` make of a hostile body: an OWN `__proto__` key.
  const hostile = () => JSON.parse('{"__proto__":{"isAdmin":true},"name":"x"}');

  function expectProtoKeptAsData(back: Record<string, unknown>) {
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back.isAdmin).toBeUndefined();
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(back.name).toBe('x');
    expectObjectPrototypeClean();
  }

  it('keeps an own __proto__ key as data (plain JSON fast path)', () => {
    const [back] = roundTrip([hostile()]) as [Record<string, unknown>];
    expectProtoKeptAsData(back);
  });

  it('keeps an own __proto__ key as data when the tagging walk runs', () => {
    // The Date sends the whole value through the tagging walk, which builds new objects.
    const [back, when] = roundTrip([hostile(), new Date(5)]) as [Record<string, unknown>, Date];
    expectProtoKeptAsData(back);
    expect(when).toEqual(new Date(5));
    // A tagged value under the __proto__ key itself.
    const value = {};
    Object.defineProperty(value, '__proto__', {
      value: new Date(7),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const again = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(again)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(again, '__proto__')?.value).toEqual(new Date(7));
    expectObjectPrototypeClean();
  });

  it('never lets a stored payload set a prototype, wherever the key sits', () => {
    const plain = deserialize('{"__proto__":{"isAdmin":true}}') as Record<string, unknown>;
    expect(plain.isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    const wrapped = deserialize(
      '[{"$r":"object","v":{"$r":1,"__proto__":{"isAdmin":true}}},{"$r":"date","v":0}]',
    ) as Record<string, unknown>[];
    expect(wrapped[0]!.isAdmin).toBeUndefined();
    expect(Object.hasOwn(wrapped[0]!, '__proto__')).toBe(true);
    const nested = deserialize(
      '{"a":{"b":{"__proto__":{"isAdmin":true}}},"d":{"$r":"date","v":0}}',
    ) as { a: { b: Record<string, unknown> } };
    expect(nested.a.b.isAdmin).toBeUndefined();
    const inMap = deserialize('{"$r":"map","v":[["k",{"__proto__":{"isAdmin":true}}]]}') as Map<
      string,
      Record<string, unknown>
    >;
    expect(inMap.get('k')!.isAdmin).toBeUndefined();
    expectObjectPrototypeClean();
  });

  it('never lets a stored error take its fields from a prototype', () => {
    const error = deserialize(
      '{"$r":"error","v":{"name":"Error","message":"m","__proto__":{"code":"E_INJECTED","cause":{"name":"X","message":"y"}}}}',
    ) as Error & { code?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expectObjectPrototypeClean();
  });

  it('keeps constructor and prototype keys as data', () => {
    const value = JSON.parse('{"constructor":{"prototype":{"isAdmin":true}},"prototype":1}');
    for (const back of [roundTrip(value), roundTrip({ ...value, at: new Date(0) })] as Record<
      string,
      unknown
    >[]) {
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(back.constructor).toEqual({ prototype: { isAdmin: true } });
      expect(back.prototype).toBe(1);
      expect(Object.hasOwn(back, 'constructor')).toBe(true);
    }
    expectObjectPrototypeClean();
  });
});

describe('binary data', () => {
  it('round-trips every typed array with its type and values', () => {
    const arrays = [
      new Int8Array([-128, 0, 127]),
      new Uint8Array([0, 1, 255]),
      new Uint8ClampedArray([0, 128, 255]),
      new Int16Array([-32768, 1, 32767]),
      new Uint16Array([0, 65535]),
      new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
      new Uint32Array([0, 2 ** 32 - 1]),
      new Float32Array([1.5, Number.NaN, -0, Number.NEGATIVE_INFINITY]),
      new Float64Array([Math.PI, Number.NaN, -0, Number.MAX_VALUE, Number.MIN_VALUE]),
      new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
      new BigUint64Array([0n, 2n ** 64n - 1n]),
      new Float64Array(0),
    ];
    const back = roundTrip(arrays) as typeof arrays;
    for (let i = 0; i < arrays.length; i++) {
      expect(back[i]!.constructor).toBe(arrays[i]!.constructor);
      expect(back[i]).toEqual(arrays[i]);
    }
    expect(Object.is((back[8] as Float64Array)[2], -0)).toBe(true);
    expect((back[7] as Float32Array)[1]).toBeNaN();
  });

  it('stores only the bytes a view shows', () => {
    const buffer = new ArrayBuffer(64);
    new Uint8Array(buffer).fill(7);
    const floats = new Float64Array(buffer, 8, 2);
    floats.set([1.25, -2.5]);
    const view = new DataView(buffer, 3, 5);
    const bytes = new Uint8Array(buffer, 60, 4);
    const [f, v, b] = roundTrip([floats, view, bytes]) as [Float64Array, DataView, Uint8Array];
    expect(f).toBeInstanceOf(Float64Array);
    expect([...f]).toEqual([1.25, -2.5]);
    expect([f.byteOffset, f.buffer.byteLength]).toEqual([0, 16]);
    expect(v).toBeInstanceOf(DataView);
    expect([v.byteOffset, v.byteLength, v.buffer.byteLength]).toEqual([0, 5, 5]);
    expect(v.getUint8(4)).toBe(7);
    expect([...b]).toEqual([7, 7, 7, 7]);
    expect(b.buffer.byteLength).toBe(4);
    // Float64Array needs an 8-byte aligned buffer: decoding must not view base64's own buffer.
    expect(serialize(floats)).toMatch(/"\$r":"typed"/);
  });

  it('round-trips ArrayBuffer (also resizable) and DataView', () => {
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const back = roundTrip({ buffer, view: new DataView(buffer) }) as {
      buffer: ArrayBuffer;
      view: DataView;
    };
    expect(back.buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(back.buffer)]).toEqual([1, 2, 3]);
    expect(back.view.getUint8(2)).toBe(3);
    const resizable = new (ArrayBuffer as any)(2, { maxByteLength: 16 }) as ArrayBuffer & {
      resizable: boolean;
      maxByteLength: number;
    };
    const again = roundTrip(resizable) as typeof resizable;
    expect([again.byteLength, again.resizable, again.maxByteLength]).toEqual([2, true, 16]);
  });

  it('round-trips a Buffer as a Buffer, and a Uint8Array as a Uint8Array', () => {
    // Small Buffers live inside Node's shared pool: only their own bytes are stored.
    const small = Buffer.from('héllo');
    expect(small.buffer.byteLength).toBeGreaterThan(small.length);
    const [buf, u8] = roundTrip([small, new Uint8Array([1, 2])]) as [Buffer, Uint8Array];
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(buf.toString('utf8')).toBe('héllo');
    expect(Buffer.isBuffer(u8)).toBe(false);
    expect(u8).toBeInstanceOf(Uint8Array);
  });

  it('refuses shared memory with the path', () => {
    const shared = new SharedArrayBuffer(8);
    expect(() => serialize([{ mem: shared }], 'args')).toThrow(
      /^args\[0\]\.mem is a SharedArrayBuffer/,
    );
    expect(() => serialize([new Int32Array(shared)], 'args')).toThrow(
      /^args\[0\] is a view on a SharedArrayBuffer/,
    );
  });
});

describe('values JSON would change', () => {
  it('round-trips an invalid Date as an invalid Date', () => {
    const [back, valid] = roundTrip([new Date(Number.NaN), new Date(0)]) as [Date, Date];
    expect(back).toBeInstanceOf(Date);
    expect(back.getTime()).toBeNaN();
    expect(valid.getTime()).toBe(0);
  });

  it('round-trips holes in arrays as holes, and undefined items as undefined', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const sparse = [1, , undefined, 4];
    const back = roundTrip(sparse) as unknown[];
    expect(back).toHaveLength(4);
    expect(1 in back).toBe(false);
    expect(2 in back).toBe(true);
    expect(back[2]).toBeUndefined();
    expect(back[3]).toBe(4);
  });

  it('round-trips a URL as a URL', () => {
    const back = roundTrip({ at: new URL('https://example.com/a?b=1#c') }) as { at: URL };
    expect(back.at).toBeInstanceOf(URL);
    expect(back.at.href).toBe('https://example.com/a?b=1#c');
  });

  it('round-trips null-prototype objects as null-prototype objects', () => {
    const dict = Object.assign(Object.create(null), { a: 1, $r: 'x', toString: 'data' });
    const back = roundTrip({ dict, nested: [dict] }) as { dict: Record<string, unknown> };
    expect(Object.getPrototypeOf(back.dict)).toBeNull();
    expect({ ...back.dict }).toEqual({ a: 1, $r: 'x', toString: 'data' });
    const root = roundTrip(Object.create(null)) as object;
    expect(Object.getPrototypeOf(root)).toBeNull();
    // An own __proto__ key in a null-prototype object is data too.
    const withProto = Object.create(null);
    // biome-ignore lint/suspicious/noProto: assignment creates an own key on a null prototype
    withProto.__proto__ = { isAdmin: true };
    const again = roundTrip(withProto) as Record<string, unknown>;
    expect(Object.getPrototypeOf(again)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(again, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(again.isAdmin).toBeUndefined();
  });

  it('round-trips RegExp source and flags', () => {
    const back = roundTrip([/a.b/suy, /\/x/dg]) as RegExp[];
    expect(back.map(String)).toEqual(['/a.b/suy', '/\\/x/dg']);
    expect(back[0]).toBeInstanceOf(RegExp);
  });

  it('reads getters at call time and stores their value', () => {
    const value = {
      get total() {
        return 42;
      },
    };
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(back, 'total')?.value).toBe(42);
  });
});

describe('values that cannot round-trip are refused with their path', () => {
  class User {
    readonly id: string;
    constructor(id: string) {
      this.id = id;
    }
    greet() {
      return `hi ${this.id}`;
    }
  }
  class Money {
    readonly cents: number;
    constructor(cents: number) {
      this.cents = cents;
    }
    toJSON() {
      return String(this.cents);
    }
  }

  it('refuses class instances and says to pass a plain object', () => {
    const error = (() => {
      try {
        serialize([{ user: new User('u1') }], 'argument list');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect(error?.message).toMatch(/^argument list\[0\]\.user is an instance of User/);
    expect(error?.message).toMatch(/Pass a plain object instead \(`\{ \.\.\.value \}` copies/);
    // toJSON would turn it into something else silently: refused too, with a hint.
    expect(() => serialize({ price: new Money(5) }, 'args')).toThrow(
      /^args\.price is an instance of Money.*toJSON\(\)/,
    );
    // A plain object whose prototype is another object.
    expect(() => serialize([Object.create({ inherited: 1 })], 'args')).toThrow(
      /^args\[0\] is an object whose prototype/,
    );
  });

  it('refuses subclasses of supported built-ins', () => {
    class Stamp extends Date {}
    class Registry extends Map {}
    class List extends Array {}
    class Pattern extends RegExp {}
    for (const [value, name] of [
      [new Stamp(0), 'Stamp'],
      [new Registry(), 'Registry'],
      [List.from([1]), 'List'],
      [new Pattern('x'), 'Pattern'],
    ] as const) {
      expect(() => serialize([value], 'args')).toThrow(
        new RegExp(`^args\\[0\\] is an instance of ${name}`),
      );
    }
  });

  it('refuses Promise, WeakMap, WeakSet, WeakRef and boxed primitives with what to do instead', () => {
    expect(() => serialize([Promise.resolve(1)], 'args')).toThrow(/^args\[0\] is a Promise.*await/);
    expect(() => serialize({ w: new WeakMap() }, 'args')).toThrow(/^args\.w is a WeakMap/);
    expect(() => serialize({ w: new WeakSet() }, 'args')).toThrow(/^args\.w is a WeakSet/);
    expect(() => serialize({ w: new WeakRef({}) }, 'args')).toThrow(/^args\.w is a WeakRef/);
    for (const boxed of [new String('x'), new Number(1), new Boolean(false), Object(1n)]) {
      expect(() => serialize({ b: boxed }, 'args')).toThrow(/^args\.b is a boxed .*primitive/);
    }
  });

  it('refuses symbol keys (enumerable ones) with the path', () => {
    expect(() => serialize([{ a: { [Symbol('k')]: 1 } }], 'args')).toThrow(
      /^args\[0\]\.a has symbol keys/,
    );
    const hidden = Object.defineProperty({ a: 1 }, Symbol('k'), { value: 1, enumerable: false });
    expect(roundTrip(hidden)).toEqual({ a: 1 });
  });

  it('takes plain objects and arrays of another realm as plain data', () => {
    const foreign = runInNewContext('({ a: [1, { b: 2 }], c: null })');
    expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
    const back = roundTrip([foreign, new Date(0)]) as [Record<string, unknown>, Date];
    expect(Object.getPrototypeOf(back[0])).toBe(Object.prototype);
    expect(back[0]).toEqual({ a: [1, { b: 2 }], c: null });
    expect(Array.isArray(back[0].a)).toBe(true);
    // Other built-ins of another realm are not recognized: refused, never changed.
    expect(() => serialize([runInNewContext('new Map()')], 'args')).toThrow(
      /^args\[0\] is an instance of Map/,
    );
  });

  it('names keys that are not identifiers unambiguously', () => {
    expect(() => serialize({ 'a b': [{ 'x.y': () => 1 }] }, 'args')).toThrow(
      /^args\["a b"\]\[0\]\["x\.y"\] is a function/,
    );
  });
});

describe('depth and cycles', () => {
  function nest(levels: number): unknown {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { next: value };
    return value;
  }

  it(`accepts ${MAX_PAYLOAD_DEPTH} levels of nesting and refuses more with a SerializationError`, () => {
    expect(MAX_PAYLOAD_DEPTH).toBe(1000);
    expect(roundTrip(nest(MAX_PAYLOAD_DEPTH))).toEqual(nest(MAX_PAYLOAD_DEPTH));
    const error = (() => {
      try {
        serialize(nest(MAX_PAYLOAD_DEPTH + 1), 'args');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect(error?.message).toMatch(/^args\.next\.next.* is nested more than 1000 levels deep/);
    expect(error!.message.length).toBeLessThan(400);
  });

  it('refuses very deep values with a SerializationError, never a RangeError', () => {
    let array: unknown = [];
    for (let i = 0; i < 100_000; i++) array = [array];
    expect(() => serialize(array)).toThrow(SerializationError);
    // Tagged values deep down take the same way.
    let map: unknown = new Map();
    for (let i = 0; i < 5_000; i++) map = new Map([['k', map]]);
    expect(() => serialize(map)).toThrow(SerializationError);
  });

  it('refuses cycles through Map, Set and arrays with the path', () => {
    const map = new Map<string, unknown>();
    map.set('self', map);
    expect(() => serialize([map], 'args')).toThrow(/^args\[0\]<value 0> is a circular reference/);
    const set = new Set<unknown>();
    set.add([set]);
    expect(() => serialize(set, 'args')).toThrow(/^args<0>\[0\] is a circular reference/);
  });

  it('stores a value seen twice (not a cycle) as two copies', () => {
    const shared = { n: 1 };
    const back = roundTrip({ a: shared, b: shared, d: new Date(0) }) as Record<string, object>;
    expect(back.a).toEqual(shared);
    expect(back.a).not.toBe(back.b);
  });
});

describe('payloads written by earlier versions', () => {
  it('still decode', () => {
    // Written by 0.1.0's serialize: every tag it knew.
    const stored =
      '[{"$r":"undefined"},{"$r":"number","v":"-0"},{"$r":"number","v":"NaN"},' +
      '{"$r":"bigint","v":"12345678901234567890"},{"$r":"date","v":1000},{"$r":"date","v":null},' +
      '{"$r":"map","v":[["a",{"$r":"set","v":[1]}]]},{"$r":"regexp","v":"a+","f":"gi"},' +
      '{"$r":"bytes","v":"AQL/"},{"$r":"object","v":{"$r":"date","v":5}},' +
      '{"$r":"error","v":{"name":"TypeError","message":"bad","code":"E","cause":{"name":"Error","message":"root"}}},' +
      '{"plain":[1,null,"x"]}]';
    const back = deserialize(stored) as unknown[];
    expect(back[0]).toBeUndefined();
    expect(Object.is(back[1], -0)).toBe(true);
    expect(back[2]).toBeNaN();
    expect(back[3]).toBe(12345678901234567890n);
    expect(back[4]).toEqual(new Date(1000));
    // 0.1.0 wrote an invalid Date as null: it was invalid, and now reads back so.
    expect((back[5] as Date).getTime()).toBeNaN();
    expect(back[6]).toEqual(new Map([['a', new Set([1])]]));
    expect(String(back[7])).toBe('/a+/gi');
    expect(back[8]).toEqual(new Uint8Array([1, 2, 255]));
    expect(Buffer.isBuffer(back[8])).toBe(false);
    expect(back[9]).toEqual({ $r: 'date', v: 5 });
    const error = back[10] as Error & { code: string };
    expect([error.name, error.message, error.code, (error.cause as Error).message]).toEqual([
      'TypeError',
      'bad',
      'E',
      'root',
    ]);
    expect(back[11]).toEqual({ plain: [1, null, 'x'] });
  });

  it('reports a malformed or unknown stored payload as a SerializationError', () => {
    expect(() => deserialize('{"$r":"teleporter"}')).toThrow(SerializationError);
    expect(() => deserialize('{"$r":"map","v":5}')).toThrow(SerializationError);
    expect(() => deserialize('{"a":')).toThrow(SerializationError);
    expect(() => deserialize('{"$r":"typed","t":"Float64Array","v":"AQID"}')).toThrow(
      SerializationError,
    );
  });
});
