import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// `gc()` without asking everyone who runs the bench for `node --expose-gc`: the flag set at
// run time applies to contexts made after it, so a fresh context hands the function out.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A full garbage collection, so that a timed phase does not pay for the garbage (or the
 * retained objects) of what ran before it.
 */
export function collectGarbage(): void {
  gc();
}
