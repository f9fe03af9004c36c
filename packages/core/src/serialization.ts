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
  // Most payloads are plain JSON already: check that without allocating, and let the native
  // JSON.stringify write them. The output is the same; the tagging walk only runs when needed.
  if (isPlainJson(value, 0)) return JSON.stringify(value);
  return JSON.stringify(encode(value, { root: what, path: [], seen: new Set() }));
}

/**
 * True when JSON.stringify alone writes `value` faithfully: strings, booleans, null, finite
 * numbers other than -0, and arrays and plain objects of those (no `$r` key, no symbol keys).
 * Past a depth of 64 it answers false, so a cycle falls to the tagging walk, which names it.
 */
function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > 64) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined: not plain JSON.
      if (!isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || Object.hasOwn(value, TAG)) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.keys(value)) {
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

export function deserialize(text: string): unknown {
  return decode(JSON.parse(text));
}

/**
 * One `serialize` call's walk. The path to the current value is a stack of segments, turned
 * into text only when a value is refused: building a path string for every value visited was
 * a third of the encoder's time on the enqueue hot path.
 */
interface Walk {
  root: string;
  /** Array index, object key, or a preformatted segment of a Map or Set. */
  path: (number | string | { raw: string })[];
  seen: Set<object>;
}

function pathOf(walk: Walk): string {
  let text = walk.root;
  for (const segment of walk.path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string') text += `.${segment}`;
    else text += segment.raw;
  }
  return text;
}

/** Encodes `value` as the child `segment` of the current path. */
function encodeAt(value: unknown, segment: Walk['path'][number], walk: Walk): unknown {
  walk.path.push(segment);
  const encoded = encode(value, walk);
  walk.path.pop();
  return encoded;
}

function encode(value: unknown, walk: Walk): unknown {
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
        `${pathOf(walk)} is a function, which cannot be stored. Pass data (ids, plain objects) instead.`,
      );
    case 'symbol':
      throw new SerializationError(`${pathOf(walk)} is a symbol, which cannot be stored.`);
  }
  if (value === null) return null;
  const object = value as object;
  if (walk.seen.has(object)) {
    throw new SerializationError(
      `${pathOf(walk)} is a circular reference, which cannot be stored.`,
    );
  }
  walk.seen.add(object);
  try {
    return encodeObject(object, walk);
  } finally {
    walk.seen.delete(object);
  }
}

function encodeObject(object: object, walk: Walk): unknown {
  if (Array.isArray(object)) {
    const out: unknown[] = new Array(object.length);
    for (let i = 0; i < object.length; i++) out[i] = encodeAt(object[i], i, walk);
    return out;
  }
  if (object instanceof Date) return { [TAG]: 'date', v: object.getTime() };
  if (object instanceof Map) {
    return {
      [TAG]: 'map',
      v: [...object].map(([k, v], i) => [
        encodeAt(k, { raw: `<key ${i}>` }, walk),
        encodeAt(v, { raw: `<value ${i}>` }, walk),
      ]),
    };
  }
  if (object instanceof Set) {
    return {
      [TAG]: 'set',
      v: [...object].map((item, i) => encodeAt(item, { raw: `<${i}>` }, walk)),
    };
  }
  if (object instanceof RegExp) return { [TAG]: 'regexp', v: object.source, f: object.flags };
  if (object instanceof Uint8Array) {
    return {
      [TAG]: 'bytes',
      v: Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64'),
    };
  }
  if (object instanceof Error) return { [TAG]: 'error', v: encode(errorToStored(object), walk) };
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return encode((object as { toJSON(): unknown }).toJSON(), walk);
  }
  if (
    Object.getOwnPropertySymbols(object).some((s) =>
      Object.prototype.propertyIsEnumerable.call(object, s),
    )
  ) {
    throw new SerializationError(`${pathOf(walk)} has symbol keys, which cannot be stored.`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    out[key] = encodeAt((object as Record<string, unknown>)[key], key, walk);
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
