import { SerializationError } from './errors.ts';
import type { StoredError } from './types.ts';

/**
 * The only place that knows how payloads are written. Values become JSON in which anything
 * JSON cannot say faithfully is a tagged object `{ "$r": tag, … }`: undefined, NaN/±Infinity/-0,
 * BigInt, Date, Map, Set, RegExp, byte arrays and errors. A plain object that happens to own a
 * `$r` key is wrapped as `{ "$r": "object", "v": … }` so it never reads back as a tag.
 * Functions, symbols and circular references are refused with the path to the bad value.
 */

const TAG = '$r';

export function serialize(value: unknown, what = 'value'): string {
  return JSON.stringify(encode(value, what, new Set()));
}

export function deserialize(text: string): unknown {
  return decode(JSON.parse(text));
}

function encode(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: 'number', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() };
    case 'function':
      throw new SerializationError(
        `${path} is a function, which cannot be stored. Pass data (ids, plain objects) instead.`,
      );
    case 'symbol':
      throw new SerializationError(`${path} is a symbol, which cannot be stored.`);
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) {
    throw new SerializationError(`${path} is a circular reference, which cannot be stored.`);
  }
  seen.add(object);
  try {
    return encodeObject(object, path, seen);
  } finally {
    seen.delete(object);
  }
}

function encodeObject(object: object, path: string, seen: Set<object>): unknown {
  if (Array.isArray(object)) return object.map((item, i) => encode(item, `${path}[${i}]`, seen));
  if (object instanceof Date) return { [TAG]: 'date', v: object.getTime() };
  if (object instanceof Map) {
    return {
      [TAG]: 'map',
      v: [...object].map(([k, v], i) => [
        encode(k, `${path}<key ${i}>`, seen),
        encode(v, `${path}<value ${i}>`, seen),
      ]),
    };
  }
  if (object instanceof Set) {
    return { [TAG]: 'set', v: [...object].map((item, i) => encode(item, `${path}<${i}>`, seen)) };
  }
  if (object instanceof RegExp) return { [TAG]: 'regexp', v: object.source, f: object.flags };
  if (object instanceof Uint8Array) {
    return {
      [TAG]: 'bytes',
      v: Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64'),
    };
  }
  if (object instanceof Error)
    return { [TAG]: 'error', v: encode(errorToStored(object), path, seen) };
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return encode((object as { toJSON(): unknown }).toJSON(), path, seen);
  }
  if (
    Object.getOwnPropertySymbols(object).some((s) =>
      Object.prototype.propertyIsEnumerable.call(object, s),
    )
  ) {
    throw new SerializationError(`${path} has symbol keys, which cannot be stored.`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    out[key] = encode((object as Record<string, unknown>)[key], `${path}.${key}`, seen);
  }
  return TAG in out ? { [TAG]: 'object', v: out } : out;
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (tag === undefined) return decodeEntries(record);
  switch (tag) {
    case 'undefined':
      return undefined;
    case 'number':
      return Number(record.v);
    case 'bigint':
      return BigInt(record.v as string);
    case 'date':
      return new Date(record.v as number);
    case 'map':
      return new Map((record.v as [unknown, unknown][]).map(([k, v]) => [decode(k), decode(v)]));
    case 'set':
      return new Set((record.v as unknown[]).map(decode));
    case 'regexp':
      return new RegExp(record.v as string, record.f as string);
    case 'bytes':
      return new Uint8Array(Buffer.from(record.v as string, 'base64'));
    case 'error':
      return storedToError(decode(record.v) as StoredError);
    case 'object':
      return decodeEntries(record.v as Record<string, unknown>);
    default:
      throw new SerializationError(
        `Unknown payload tag "${String(tag)}": written by a newer version?`,
      );
  }
}

function decodeEntries(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) out[key] = decode(record[key]);
  return out;
}

/** Keeps what matters of an error: name, message, code, stack and (recursively) cause. */
export function errorToStored(error: unknown, depth = 0): StoredError {
  if (!(error instanceof Error)) {
    return { name: 'NonError', message: typeof error === 'string' ? error : safeString(error) };
  }
  const stored: StoredError = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') stored.code = String(code);
  if (error.stack) stored.stack = error.stack;
  if (error.cause !== undefined && depth < 5) stored.cause = errorToStored(error.cause, depth + 1);
  return stored;
}

/** Rebuilds an `Error` from its stored form (for events and `error` payload tags). */
export function storedToError(stored: StoredError): Error {
  const error = new Error(
    stored.message,
    stored.cause ? { cause: storedToError(stored.cause) } : undefined,
  );
  error.name = stored.name;
  if (stored.code !== undefined) (error as Error & { code?: string }).code = stored.code;
  if (stored.stack !== undefined) error.stack = stored.stack;
  return error;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
