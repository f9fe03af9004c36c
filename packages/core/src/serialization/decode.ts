import { SerializationError } from '../errors.ts';
import type { StoredError } from '../types.ts';
import { storedToError } from './stored-error.ts';
import { BIG_ENDIAN, swapBytes, TAG, TYPED_ARRAYS } from './tags.ts';

/** Reading: stored JSON text back to the value, each tagged object replaced by what it stands for. */

export function deserialize(text: string): unknown {
  try {
    // JSON.parse makes every key an own data property, `__proto__` included, of an object whose
    // prototype is Object.prototype: its output is already the value when nothing is tagged.
    const parsed: unknown = JSON.parse(text);
    return text.includes(`"${TAG}"`) ? decode(parsed) : parsed;
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(
      `A stored payload could not be decoded (${(error as Error).message}): it is damaged, ` +
        'or was not written by Reseolio.',
      { cause: error },
    );
  }
}

/**
 * Decodes JSON.parse's output in place: plain objects and arrays are kept (they already have
 * the right prototype and own keys), and each tagged object is replaced by its value. Writing
 * back over an existing own data property never reaches a setter, `__proto__` included (an own
 * property is found before the prototype's accessor), so data cannot choose a prototype here.
 */
function decode(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return decodeArray(value);
  const record = value as Record<string, unknown>;
  return Object.hasOwn(record, TAG) ? decodeTagged(record) : decodeProperties(record);
}

function decodeArray(array: unknown[]): unknown[] {
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (typeof item !== 'object' || item === null) continue;
    if ((item as Record<string, unknown>).hole === true && isTagged(item, 'undefined')) {
      delete array[i];
      continue;
    }
    const decoded = decode(item);
    if (decoded !== item) array[i] = decoded;
  }
  return array;
}

function decodeProperties(record: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item !== 'object' || item === null) continue;
    const decoded = decode(item);
    // An own data property: assignment updates it (see `decode`).
    if (decoded !== item) record[key] = decoded;
  }
  return record;
}

function isTagged(value: object, tag: string): boolean {
  return Object.hasOwn(value, TAG) && (value as Record<string, unknown>)[TAG] === tag;
}

function decodeTagged(record: Record<string, unknown>): unknown {
  const tag = record[TAG];
  const v = record.v;
  switch (tag) {
    case 'undefined':
      return undefined;
    case 'number':
      return Number(v);
    case 'bigint':
      return BigInt(v as string);
    case 'date':
      return new Date(v === null ? Number.NaN : (v as number));
    case 'map':
      return new Map(
        asArray(v).map((entry) => {
          const [key, item] = asArray(entry);
          return [decode(key), decode(item)];
        }),
      );
    case 'set':
      return new Set(decodeArray(asArray(v)));
    case 'regexp':
      return new RegExp(v as string, record.f as string);
    case 'url':
      return new URL(v as string);
    case 'bytes': {
      const bytes = Buffer.from(asString(v), 'base64');
      return record.t === 'Buffer' ? bytes : new Uint8Array(bytes);
    }
    case 'typed': {
      const TypedArray = TYPED_ARRAYS.get(asString(record.t));
      if (TypedArray === undefined) {
        throw new SerializationError(
          `A stored payload holds a ${String(record.t)}, which this runtime does not have.`,
        );
      }
      const buffer = arrayBufferOf(v);
      if (buffer.byteLength % TypedArray.BYTES_PER_ELEMENT !== 0) {
        throw new SerializationError(
          `A stored ${String(record.t)} has ${buffer.byteLength} bytes, not a whole number of elements.`,
        );
      }
      if (BIG_ENDIAN) swapBytes(Buffer.from(buffer), TypedArray.BYTES_PER_ELEMENT);
      return new TypedArray(buffer);
    }
    case 'arraybuffer': {
      const bytes = arrayBufferOf(v);
      if (typeof record.max !== 'number') return bytes;
      const ResizableArrayBuffer = ArrayBuffer as unknown as new (
        length: number,
        options: { maxByteLength: number },
      ) => ArrayBuffer;
      const buffer = new ResizableArrayBuffer(bytes.byteLength, { maxByteLength: record.max });
      new Uint8Array(buffer).set(new Uint8Array(bytes));
      return buffer;
    }
    case 'dataview':
      return new DataView(arrayBufferOf(v));
    case 'error':
      return storedToError(decode(v) as StoredError);
    case 'object': {
      const entries = decodeProperties(asRecord(v));
      return record.proto === null ? withNullPrototype(entries) : entries;
    }
    default:
      throw new SerializationError(
        `Unknown payload tag "${String(tag)}": written by a newer version?`,
      );
  }
}

/** A fresh buffer of exactly the stored bytes, aligned for any typed array. */
function arrayBufferOf(v: unknown): ArrayBuffer {
  const bytes = Buffer.from(asString(v), 'base64');
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Copies own entries onto a null-prototype object (where assignment never meets a setter). */
function withNullPrototype(entries: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(entries)) out[key] = entries[key];
  return out;
}

function asArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new SerializationError('A stored payload is malformed.');
  return v;
}

function asRecord(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new SerializationError('A stored payload is malformed.');
  }
  return v as Record<string, unknown>;
}

function asString(v: unknown): string {
  if (typeof v !== 'string') throw new SerializationError('A stored payload is malformed.');
  return v;
}
