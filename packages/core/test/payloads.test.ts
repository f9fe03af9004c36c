import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_DEPTH, SerializationError } from '../src/index.ts';
import { makeEngine } from './helpers.ts';

/** What a handler reports about the object it was given. */
function describeObject(value: Record<string, unknown>) {
  return {
    isAdmin: value.isAdmin,
    ownProto: Object.getOwnPropertyDescriptor(value, '__proto__')?.value,
    plainPrototype: Object.getPrototypeOf(value) === Object.prototype,
  };
}

describe('payloads through the engine', () => {
  it('gives the handler an own __proto__ key of its arguments as data, never as a prototype', async () => {
    const engine = makeEngine();
    const seen: unknown[] = [];
    const fn = engine.durable('users:update', async (body: Record<string, unknown>) => {
      seen.push(describeObject(body));
      return body;
    });
    await engine.start();
    // What JSON.parse (and so express.json()) makes of a hostile request body.
    const handle = await fn(JSON.parse('{"__proto__":{"isAdmin":true}}'));
    const result = (await handle.result(5000)) as Record<string, unknown>;
    const expected = { isAdmin: undefined, ownProto: { isAdmin: true }, plainPrototype: true };
    expect(seen).toEqual([expected]);
    expect(describeObject(result)).toEqual(expected);
    const { args } = await handle.details();
    expect(describeObject(args[0] as Record<string, unknown>)).toEqual(expected);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('round-trips binary data and invalid dates to the handler and back', async () => {
    const engine = makeEngine();
    const fn = engine.durable('binary', async (floats: Float64Array, buf: Buffer, at: Date) => {
      return {
        floats: floats instanceof Float64Array ? [...floats] : floats,
        text: Buffer.isBuffer(buf) ? buf.toString('utf8') : buf,
        valid: !Number.isNaN(at.getTime()),
        echo: new BigUint64Array([2n ** 64n - 1n]),
      };
    });
    await engine.start();
    const handle = await fn(new Float64Array([0.5, -0]), Buffer.from('ok'), new Date(Number.NaN));
    const result = await handle.result(5000);
    expect(result).toEqual({
      floats: [0.5, -0],
      text: 'ok',
      valid: false,
      echo: new BigUint64Array([2n ** 64n - 1n]),
    });
  });

  it('refuses a class instance or a too deep value at call time, with the path, storing nothing', async () => {
    const engine = makeEngine();
    class User {
      id = 'u1';
    }
    const fn = engine.durable('takes-anything', async (..._args: unknown[]) => {});
    const error = await fn({ user: new User() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).code).toBe('RESEOLIO_UNSERIALIZABLE');
    expect((error as Error).message).toMatch(
      /^argument list\[0\]\.user is an instance of User.*Pass a plain object/,
    );
    let deep: unknown = 'leaf';
    for (let i = 0; i < MAX_PAYLOAD_DEPTH + 10; i++) deep = [deep];
    await expect(fn(deep)).rejects.toThrow(/is nested more than 1000 levels deep/);
    expect(await engine.listJobs()).toEqual([]);
  });

  it('ends a job whose return value cannot be stored, with the path in its error', async () => {
    const engine = makeEngine();
    const fn = engine.durable('returns-instance', async () => ({ at: new (class Stamp {})() }));
    await engine.start();
    const handle = await fn();
    await expect(handle.result(5000)).rejects.toThrow(
      /The return value\.at is an instance of Stamp/,
    );
    expect((await handle.details()).attempt).toBe(1);
  });
});
