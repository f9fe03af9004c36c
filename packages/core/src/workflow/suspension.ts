import { MAX_TIME_MS } from '../options/bounds.ts';
import type { Wait } from './waiting-for.ts';

/** The due time of a wait that only its wake condition ends (the largest time stored). */
export const NEVER = MAX_TIME_MS;

/** What the attempt runner receives when the handler suspends. */
export class SuspendRequest {
  readonly wait: Wait;

  constructor(wait: Wait) {
    this.wait = wait;
  }
}

/**
 * How a handler suspends: a wait that would be long asks for it, and the attempt runner, which
 * races the handler against `requested`, ends the attempt there: it stores the job `waiting`
 * and drops the handler's continuation (the awaiting call never returns in this run; the job
 * runs its handler again from the top when it wakes, and the recorded steps replay).
 *
 * Waits asked for in the same turn (a `Promise.all` of children, say) become one: the
 * earliest due time, the children together; a signal wait wins over children (its wake is
 * exact), and a sleep only adds its time.
 */
export class Suspension {
  readonly requested: Promise<SuspendRequest>;
  #resolve!: (request: SuspendRequest) => void;
  #pending: Wait | undefined;

  constructor() {
    this.requested = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Asks to suspend with `wait`; returns a promise that never settles. */
  request(wait: Wait): Promise<never> {
    if (this.#pending === undefined) {
      this.#pending = wait;
      setImmediate(() => this.#resolve(new SuspendRequest(this.#pending!)));
    } else {
      this.#pending = merge(this.#pending, wait);
    }
    return new Promise<never>(() => {});
  }
}

function merge(a: Wait, b: Wait): Wait {
  const runAt = Math.min(a.runAt, b.runAt);
  if (a.waitingFor.kind === 'children' && b.waitingFor.kind === 'children') {
    const jobIds = [...new Set([...a.waitingFor.jobIds, ...b.waitingFor.jobIds])];
    return { waitingFor: { kind: 'children', jobIds }, runAt, wake: { kind: 'children', jobIds } };
  }
  const rank = (w: Wait) =>
    w.waitingFor.kind === 'signal' ? 0 : w.waitingFor.kind === 'children' ? 1 : 2;
  const first = rank(a) <= rank(b) ? a : b;
  return { ...first, runAt };
}
