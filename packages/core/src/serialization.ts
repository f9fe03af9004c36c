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

// One concept a file, under `serialization/`: `encode.ts` (writing, and the walk's containers),
// `built-ins.ts` (Date, bytes, URL… written whole, and the built-ins refused), `decode.ts`
// (reading), `tags.ts` (the vocabulary both share), `walk.ts` (the path named in a refusal) and
// `stored-error.ts` (errors as stored). This file re-exports them for the modules that import
// `./serialization.ts`.

export { deserialize } from './serialization/decode.ts';
export { MAX_PAYLOAD_DEPTH, serialize } from './serialization/encode.ts';
export { errorToStored, storedToError } from './serialization/stored-error.ts';
