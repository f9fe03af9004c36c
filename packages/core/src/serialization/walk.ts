import { SerializationError } from '../errors.ts';

/**
 * One `serialize` call's walk. The path to the current value is a stack of segments, turned
 * into text only when a value is refused: building a path string for every value visited was
 * a third of the encoder's time on the enqueue hot path. Its length is the current depth.
 */
export interface Walk {
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
export function pathOf(walk: Walk): string {
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

/** The error for a refused value: its path, then what is wrong with it and what to do. */
export function refused(walk: Walk, problem: string): SerializationError {
  return new SerializationError(`${pathOf(walk)} ${problem}`);
}
