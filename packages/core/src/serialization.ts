import { SerializationError } from './errors.ts';
import type { StoredError } from './types.ts';

/**
 * The only place that knows how payloads are written. Values become JSON in which anything
 * JSON cannot say faithfully is a tagged object `{ "$r": tag, … }`. A plain object that owns a
 * `$r` key is wrapped as `{ "$r": "object", "v": … }` so it never reads back as a tag.
 *
 * What round-trips (each with its type): strings, booleans, null, every number (NaN, ±Infinity
 * and -0 tagged), undefined (also as an array item; holes stay holes), BigInt, Date (an invalid
 * one too), Map, Set, RegExp (source and flags), URL, Buffer, Uint8Array and every other typed
 * array, ArrayBuffer, DataView (only the bytes a view shows are stored, little-endian), errors
 * (as `Error` with name, message, code, stack and cause), arrays, plain objects (also those of
 * another realm) and objects with a null prototype. Getters are read at call time and stored
 * as their value.
 *
 * What is refused, with the path to the bad value and nothing stored: functions, symbols
 * (values and enumerable keys), circular references, instances of classes (subclasses of the
 * built-ins above included: their prototype would be lost), Promise, WeakMap, WeakSet, WeakRef,
 * boxed primitives, SharedArrayBuffer and views on one, and nesting deeper than
 * `MAX_PAYLOAD_DEPTH`.
 *
 * What is knowingly not kept: non-index properties of arrays and non-enumerable properties (as
 * with JSON; finding them would cost an `Object.keys` per array on the plain fast path),
 * properties added to built-ins (a Date, a Map, an error), a RegExp's `lastIndex`, and
 * identity: a value reached twice is stored twice and decodes as two copies.
 *
 * Decoding never lets data choose a prototype: a key named `__proto__` stays an own property.
 */

const TAG = '$r';

/**
 * The deepest nesting a payload may have: objects, arrays, Maps, Sets… inside one another,
 * the outermost (the argument list itself) counting as the first level. Deeper values are
 * refused with a `SerializationError`: deep enough for any real document, shallow enough that
 * encoding never overflows the stack.
 */
export const MAX_PAYLOAD_DEPTH = 1000;

/** The written forms of `undefined` and of an array hole (old readers see `undefined`). */
const UNDEFINED = Object.freeze({ [TAG]: 'undefined' });
const HOLE = Object.freeze({ [TAG]: 'undefined', hole: true });

/**
 * Typed arrays stored under the `typed` tag, by name. Uint8Array and Buffer use the older
 * `bytes` tag, which every earlier version reads. Float16Array joins where the runtime has it.
 */
const TYPED_ARRAYS = new Map<string, TypedArrayConstructor>();
type TypedArrayConstructor = {
  new (buffer: ArrayBuffer): ArrayBufferView;
  readonly BYTES_PER_ELEMENT: number;
  readonly prototype: object;
};
for (const name of [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]) {
  const TypedArray = (globalThis as Record<string, unknown>)[name];
  if (typeof TypedArray === 'function') {
    TYPED_ARRAYS.set(name, TypedArray as unknown as TypedArrayConstructor);
  }
}

/** Typed arrays are stored little-endian, so payloads move between hosts of either kind. */
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

export function serialize(value: unknown, what = 'value'): string {
  try {
    // Most payloads are plain JSON already: check that without allocating, and let the native
    // JSON.stringify write them. The output is the same; the tagging walk only runs when needed.
    if (isPlainJson(value, 0)) return JSON.stringify(value);
    return JSON.stringify(encode(value, { root: what, path: [], ancestors: [] }));
  } catch (error) {
    // The depth limit keeps the walk's own stack small, but a call made from an already deep
    // stack can still overflow, and a string over V8's maximum length throws "Invalid string
    // length". Either way nothing is stored, and the caller gets the typed error.
    if (error instanceof RangeError) {
      throw new SerializationError(`${what} could not be serialized: ${error.message}.`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * True when JSON.stringify alone writes `value` faithfully: strings, booleans, null, finite
 * numbers other than -0, and arrays and objects of those whose prototypes are exactly
 * `Array.prototype` and `Object.prototype` (no holes, no `$r` key, no symbol keys). An own
 * `__proto__` key is fine: JSON.stringify writes it as the data it is.
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
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined: not plain JSON.
      if (!isPlainJson(value[i], depth + 1)) return false;
    }
    return true;
  }
  // A null prototype is kept by a tag: the tagging walk writes it.
  if (Object.getPrototypeOf(value) !== Object.prototype || Object.hasOwn(value, TAG)) return false;
  if (Object.getOwnPropertySymbols(value).length > 0) return false;
  for (const key of Object.keys(value)) {
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/**
 * One `serialize` call's walk. The path to the current value is a stack of segments, turned
 * into text only when a value is refused: building a path string for every value visited was
 * a third of the encoder's time on the enqueue hot path. Its length is the current depth.
 */
interface Walk {
  root: string;
  /** Array index, object key, or the position of a Map key or value or of a Set item. */
  path: (number | string | CollectionSegment)[];
  /** The objects being encoded, outermost first: `ancestors[d]` sits at `path.slice(0, d)`. */
  ancestors: object[];
}

interface CollectionSegment {
  of: 'key' | 'value' | 'item';
  index: number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `args[0].user`, `args.m<value 0>`, `args["a b"]`; the middle of very deep paths elided. */
function pathOf(walk: Walk): string {
  const { path } = walk;
  if (path.length <= 16) return walk.root + path.map(segmentText).join('');
  return (
    walk.root +
    path.slice(0, 8).map(segmentText).join('') +
    `…(${path.length - 14} more)…` +
    path.slice(-6).map(segmentText).join('')
  );
}

function segmentText(segment: Walk['path'][number]): string {
  if (typeof segment === 'number') return `[${segment}]`;
  if (typeof segment === 'string') {
    return IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`;
  }
  if (segment.of === 'key') return `<key ${segment.index}>`;
  if (segment.of === 'value') return `<value ${segment.index}>`;
  return `<${segment.index}>`;
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
      return UNDEFINED;
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() };
    case 'function':
      throw refused(walk, 'is a function, which cannot be stored. Pass data (ids, plain objects).');
    case 'symbol':
      throw refused(walk, 'is a symbol, which cannot be stored.');
  }
  if (value === null) return null;
  const object = value as object;
  if (walk.path.length >= MAX_PAYLOAD_DEPTH) throw tooDeep(object, walk);
  // No cycle check here: a cycle runs into the depth limit, and `tooDeep` tells the two apart.
  // Checking every object against a set of its ancestors cost a sixth of the tagged walk.
  walk.ancestors.push(object);
  const encoded = encodeObject(object, walk);
  walk.ancestors.pop();
  return encoded;
}

/**
 * The error for an object past the depth limit: a circular reference when an object repeats
 * on the way down (named at its first repeat, the value a per-object check would have refused
 * first: the walk is depth-first, so no earlier branch held a cycle), else the depth itself.
 */
function tooDeep(object: object, walk: Walk): SerializationError {
  const chain = [...walk.ancestors, object];
  const above = new Set<object>();
  for (let depth = 0; depth < chain.length; depth++) {
    if (above.has(chain[depth]!)) {
      walk.path.length = depth;
      return refused(walk, 'is a circular reference, which cannot be stored.');
    }
    above.add(chain[depth]!);
  }
  return refused(
    walk,
    `is nested more than ${MAX_PAYLOAD_DEPTH} levels deep, which cannot be stored. ` +
      'Flatten the structure, or pass an id and load the data in the handler.',
  );
}

function encodeObject(object: object, walk: Walk): unknown {
  const proto = Object.getPrototypeOf(object);
  if (Array.isArray(object)) {
    // Any realm's Array.prototype is itself an array; a subclass's prototype is not. Arrays
    // and objects of another realm (a vm context, a Jest environment: `await res.json()`
    // there) are plain data too.
    if (proto === Array.prototype || Array.isArray(proto)) return encodeArray(object, walk);
  } else if (proto === Object.prototype || isObjectPrototypeOfAnotherRealm(proto)) {
    const out = encodeProperties(object, walk);
    return Object.hasOwn(object, TAG) ? { [TAG]: 'object', v: out } : out;
  } else if (proto === null) {
    // `proto: null` is ignored by earlier versions, which read a plain object as before.
    return { [TAG]: 'object', proto: null, v: encodeProperties(object, walk) };
  }
  // Exact prototypes: a subclass of Map or Date would come back as its base class.
  const builtIn = BUILT_INS.get(proto);
  if (builtIn !== undefined) return builtIn(object, walk);
  if (object instanceof Error) return { [TAG]: 'error', v: encode(errorToStored(object), walk) };
  throw refused(walk, classInstanceProblem(object, proto));
}

/** True for the `Object.prototype` of another realm: the end of its chain, made by `Object`. */
function isObjectPrototypeOfAnotherRealm(proto: object | null): boolean {
  if (proto === null || Object.getPrototypeOf(proto) !== null) return false;
  const ctor = Object.hasOwn(proto, 'constructor')
    ? (proto as { constructor?: unknown }).constructor
    : undefined;
  return typeof ctor === 'function' && ctor.name === 'Object' && Object.hasOwn(ctor, 'fromEntries');
}

function encodeArray(array: unknown[], walk: Walk): unknown[] {
  const out: unknown[] = new Array(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    // Only an undefined item can be a hole: the `in` check stays off the common path.
    out[i] = item === undefined && !(i in array) ? HOLE : encodeAt(item, i, walk);
  }
  return out;
}

/** Own enumerable string keys, as JSON does; an enumerable symbol key would be lost: refused. */
function encodeProperties(object: object, walk: Walk): Record<string, unknown> {
  for (const symbol of Object.getOwnPropertySymbols(object)) {
    if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
      throw refused(walk, 'has symbol keys, which cannot be stored.');
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    setOwn(out, key, encodeAt((object as Record<string, unknown>)[key], key, walk));
  }
  return out;
}

/**
 * Adds an own data property. Plain assignment is wrong for the names `Object.prototype` has:
 * `out.__proto__ = v` would call the prototype setter (the key vanishes, and `v` becomes the
 * prototype), and `out.toString = v` throws when the intrinsics are frozen
 * (`--frozen-intrinsics`, SES). Other keys take the fast assignment.
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key in Object.prototype) {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

type Encoder = (value: any, walk: Walk) => unknown;

const SHARED_MEMORY =
  'Shared memory cannot be stored: copy the bytes into an ArrayBuffer or a Uint8Array first.';

/** Built-ins by their exact prototype: how each is written, or why it is refused. */
const BUILT_INS = new Map<object, Encoder>([
  [
    Date.prototype,
    (date: Date) => {
      // An invalid Date has no time: null (which 0.1.0 also wrote for it, by accident).
      const time = date.getTime();
      return { [TAG]: 'date', v: Number.isNaN(time) ? null : time };
    },
  ],
  [
    Map.prototype,
    (map: Map<unknown, unknown>, walk) => {
      const entries: unknown[] = [];
      let index = 0;
      for (const [key, item] of map) {
        entries.push([
          encodeAt(key, { of: 'key', index }, walk),
          encodeAt(item, { of: 'value', index }, walk),
        ]);
        index += 1;
      }
      return { [TAG]: 'map', v: entries };
    },
  ],
  [
    Set.prototype,
    (set: Set<unknown>, walk) => {
      const items: unknown[] = [];
      let index = 0;
      for (const item of set) items.push(encodeAt(item, { of: 'item', index: index++ }, walk));
      return { [TAG]: 'set', v: items };
    },
  ],
  [RegExp.prototype, (regexp: RegExp) => ({ [TAG]: 'regexp', v: regexp.source, f: regexp.flags })],
  [URL.prototype, (url: URL) => ({ [TAG]: 'url', v: url.href })],
  // `t` is ignored by earlier versions, which read a Uint8Array as they always did.
  [
    Buffer.prototype,
    (bytes: Buffer, walk) => ({ [TAG]: 'bytes', t: 'Buffer', v: base64(bytes, 1, walk) }),
  ],
  [
    Uint8Array.prototype,
    (bytes: Uint8Array, walk) => ({ [TAG]: 'bytes', v: base64(bytes, 1, walk) }),
  ],
  ...[...TYPED_ARRAYS]
    .filter(([name]) => name !== 'Uint8Array')
    .map(([name, TypedArray]): [object, Encoder] => [
      TypedArray.prototype,
      (view: ArrayBufferView, walk) => ({
        [TAG]: 'typed',
        t: name,
        v: base64(view, TypedArray.BYTES_PER_ELEMENT, walk),
      }),
    ]),
  [
    ArrayBuffer.prototype,
    (buffer: ArrayBuffer) => {
      const out: Record<string, unknown> = {
        [TAG]: 'arraybuffer',
        v: Buffer.from(buffer).toString('base64'),
      };
      // A resizable buffer (ES2024) keeps its maximum; the lib this builds with predates it.
      const { resizable, maxByteLength } = buffer as {
        resizable?: boolean;
        maxByteLength?: number;
      };
      if (resizable === true) out.max = maxByteLength;
      return out;
    },
  ],
  [DataView.prototype, (view: DataView, walk) => ({ [TAG]: 'dataview', v: base64(view, 1, walk) })],
  [
    SharedArrayBuffer.prototype,
    (_: unknown, walk) => {
      throw refused(walk, `is a SharedArrayBuffer. ${SHARED_MEMORY}`);
    },
  ],
  [
    Promise.prototype,
    (_: unknown, walk) => {
      throw refused(walk, 'is a Promise, which cannot be stored: await it and pass its value.');
    },
  ],
  ...(['WeakMap', 'WeakSet', 'WeakRef'] as const).map((name): [object, Encoder] => [
    globalThis[name].prototype,
    (_: unknown, walk) => {
      throw refused(
        walk,
        `is a ${name}, whose contents cannot be read, so it cannot be stored. ` +
          (name === 'WeakRef'
            ? 'Pass the value it holds.'
            : 'Pass a Map, a Set or a plain object.'),
      );
    },
  ]),
  ...(['String', 'Number', 'Boolean', 'BigInt', 'Symbol'] as const).map(
    (name): [object, Encoder] => [
      globalThis[name].prototype,
      (_: unknown, walk) => {
        throw refused(
          walk,
          `is a boxed ${name} (an object wrapping a primitive), which would come back as a ` +
            'plain object. Pass the primitive value instead.',
        );
      },
    ],
  ),
]);

/** The bytes a view shows (not its whole buffer), little-endian, as base64. */
function base64(view: ArrayBufferView, bytesPerElement: number, walk: Walk): string {
  if (view.buffer instanceof SharedArrayBuffer) {
    throw refused(walk, `is a view on a SharedArrayBuffer. ${SHARED_MEMORY}`);
  }
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  if (!BIG_ENDIAN || bytesPerElement === 1) return bytes.toString('base64');
  // Swap a copy: the caller's array must not change.
  return swapBytes(Buffer.from(bytes), bytesPerElement).toString('base64');
}

/** Reverses the byte order of each element, in place (big-endian hosts only). */
function swapBytes(bytes: Buffer, bytesPerElement: number): Buffer {
  if (bytesPerElement === 2) return bytes.swap16();
  if (bytesPerElement === 4) return bytes.swap32();
  if (bytesPerElement === 8) return bytes.swap64();
  return bytes;
}

/** Why an object that is none of the supported kinds is refused, and what to pass instead. */
function classInstanceProblem(object: object, proto: object): string {
  const ctor = Object.hasOwn(proto, 'constructor')
    ? (proto as { constructor?: unknown }).constructor
    : undefined;
  if (typeof ctor !== 'function') {
    return (
      'is an object whose prototype is not Object.prototype, and its prototype would be lost. ' +
      'Pass a plain object.'
    );
  }
  const name = ctor.name === '' ? 'an anonymous class' : ctor.name;
  // A DTO or entity whose own fields are all it holds copies with a spread; one with toJSON()
  // (Decimal, ObjectId, Luxon…) usually means its JSON form, which the caller should choose.
  const hint =
    typeof (object as { toJSON?: unknown }).toJSON === 'function'
      ? 'its toJSON() result if that is what the handler needs'
      : '`{ ...value }` copies its own fields';
  return (
    `is an instance of ${name}, which would come back as a plain object without its ` +
    `prototype (methods, getters, instanceof). Pass a plain object instead (${hint}), or an id.`
  );
}

function refused(walk: Walk, problem: string): SerializationError {
  return new SerializationError(`${pathOf(walk)} ${problem}`);
}

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

/**
 * Rebuilds an `Error` from its stored form (for events and `error` payload tags). Reads only
 * the stored object's own fields: a decoded `__proto__` key is data and supplies none.
 */
export function storedToError(stored: StoredError): Error {
  const own = (key: keyof StoredError): unknown =>
    Object.hasOwn(stored, key) ? stored[key] : undefined;
  const cause = own('cause');
  const error = new Error(
    String(own('message') ?? ''),
    typeof cause === 'object' && cause !== null
      ? { cause: storedToError(cause as StoredError) }
      : undefined,
  );
  error.name = String(own('name') ?? 'Error');
  const code = own('code');
  if (code !== undefined) (error as Error & { code?: string }).code = String(code);
  const stack = own('stack');
  if (typeof stack === 'string') error.stack = stack;
  return error;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
