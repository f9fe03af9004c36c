import type { WakeCondition } from '../storage/workflow-records.ts';

/**
 * What a `waiting` job waits for (`details().waitingFor`). A job waits when its handler
 * suspended: a `sleep` or a `waitForSignal` longer than `suspendAfterMs`, or children's
 * `result()` it awaited that long.
 */
export type WaitingFor =
  | { kind: 'sleep'; until: Date }
  | { kind: 'signal'; topic: string; until: Date | null }
  | { kind: 'children'; jobIds: string[] };

/** `WaitingFor` as stored (epoch ms), with what wakes the job and when it is due at the latest. */
export interface Wait {
  waitingFor:
    | { kind: 'sleep'; until: number }
    | { kind: 'signal'; topic: string; until: number | null }
    | { kind: 'children'; jobIds: string[] };
  /** Due again at the latest at this time; `NEVER` when only `wake` can wake it. */
  runAt: number;
  wake: WakeCondition;
}

/** The stored text of a wait, for `JobRecord.waitingFor`. */
export function encodeWaitingFor(wait: Wait): string {
  return JSON.stringify(wait.waitingFor);
}

/** `details().waitingFor` from the stored text. */
export function decodeWaitingFor(text: string | null): WaitingFor | null {
  if (text === null) return null;
  const stored = JSON.parse(text) as Wait['waitingFor'];
  switch (stored.kind) {
    case 'sleep':
      return { kind: 'sleep', until: new Date(stored.until) };
    case 'signal':
      return {
        kind: 'signal',
        topic: stored.topic,
        until: stored.until === null ? null : new Date(stored.until),
      };
    case 'children':
      return { kind: 'children', jobIds: [...stored.jobIds] };
  }
}
