/**
 * The written form's vocabulary, shared by the encoder and the decoder: the tag key, the fixed
 * tagged values, the typed arrays by name, and the byte order they are stored in.
 */

/** The key that marks a tagged object: `{ "$r": tag, … }`. */
export const TAG = '$r';

/** The written forms of `undefined` and of an array hole (old readers see `undefined`). */
export const UNDEFINED = Object.freeze({ [TAG]: 'undefined' });
export const HOLE = Object.freeze({ [TAG]: 'undefined', hole: true });

/**
 * Typed arrays stored under the `typed` tag, by name. Uint8Array and Buffer use the older
 * `bytes` tag, which every earlier version reads. Float16Array joins where the runtime has it.
 */
export const TYPED_ARRAYS = new Map<string, TypedArrayConstructor>();
export type TypedArrayConstructor = {
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
export const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/** Reverses the byte order of each element, in place (big-endian hosts only). */
export function swapBytes(bytes: Buffer, bytesPerElement: number): Buffer {
  if (bytesPerElement === 2) return bytes.swap16();
  if (bytesPerElement === 4) return bytes.swap32();
  if (bytesPerElement === 8) return bytes.swap64();
  return bytes;
}
