import { SerializationError } from '../errors.ts';
import { type Encoder, LEAF_BUILT_INS } from './built-ins.ts';
import { errorToStored } from './stored-error.ts';
import { HOLE, TAG, UNDEFINED } from './tags.ts';
import { refused, type Walk } from './walk.ts';

/** Writing: a value to its JSON text, tagging what JSON cannot say, refusing what cannot be stored. */

/**
 * The deepest nesting a payload may have: objects, arrays, Maps, Sets… inside one another,
 * the outermost (the argument list itself) counting as the first level. Deeper values are
 * refused with a `SerializationError`: deep enough for any real document, shallow enough that
 * encoding never overflows the stack.
 */
export const MAX_PAYLOAD_DEPTH = 1000;

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

/** Built-ins by their exact prototype: how each is written, or why it is refused. */
const BUILT_INS = new Map<object, Encoder>([
  ...LEAF_BUILT_INS,
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
]);

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
