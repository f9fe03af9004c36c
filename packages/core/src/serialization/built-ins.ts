import { BIG_ENDIAN, swapBytes, TAG, TYPED_ARRAYS } from './tags.ts';
import { refused, type Walk } from './walk.ts';

/** Writes one value of a built-in type (or throws why it is refused). */
export type Encoder = (value: any, walk: Walk) => unknown;

const SHARED_MEMORY =
  'Shared memory cannot be stored: copy the bytes into an ArrayBuffer or a Uint8Array first.';

/**
 * Built-ins written whole, by their exact prototype: how each is written, or why it is
 * refused. Map and Set, whose items are walked, are added to these in `encode.ts`.
 */
export const LEAF_BUILT_INS: [object, Encoder][] = [
  [
    Date.prototype,
    (date: Date) => {
      // An invalid Date has no time: null (which 0.1.0 also wrote for it, by accident).
      const time = date.getTime();
      return { [TAG]: 'date', v: Number.isNaN(time) ? null : time };
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
];

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
