import { ReseolioError } from '../errors.ts';
import type { AckInput, JobRecord } from '../storage/records.ts';
import type { StorageAdapter } from '../storage/storage.ts';

/**
 * The rules of attempt accounting, decided here once for every adapter. A claim counts an
 * attempt (`attempt + 1`); then:
 * - a hand-back (shutdown) gives that attempt back: it never reached an outcome;
 * - a lost lease (the owner died or stalled) counts as a failed attempt;
 * - a failed attempt that was the last (`attempt >= maxAttempts`) makes the job `dead`.
 * Adapters only store what an ack says, under its fence.
 */

/** Whether the attempt a record holds is its last: failing it makes the job `dead`. */
export function isLastAttempt(record: Pick<JobRecord, 'attempt' | 'maxAttempts'>): boolean {
  return record.attempt >= record.maxAttempts;
}

/**
 * The ack that hands a claimed job back unrun (fence not included): `pending` at `now`, with
 * the attempt its claim counted given back. `record` is the job as claimed; the ack's lease
 * fence guarantees the row still holds that claim, so `record.attempt` is the stored count.
 */
export function releaseAck(record: Pick<JobRecord, 'attempt'>, now: number): ReleaseAck {
  return { kind: 'release', attempt: Math.max(0, record.attempt - 1), now };
}

/** A `release` ack without its fence. */
export interface ReleaseAck {
  kind: 'release';
  attempt: number;
  now: number;
}

/**
 * The ack that ends an attempt whose lease expired before `now`: another attempt at once, or
 * `dead` when it was the last. Fenced on the listed claim's token and on the lease being still
 * expired: if the owner's heartbeat extends it between the listing and this ack, the heartbeat
 * wins (the owner is alive after all) and the ack changes nothing.
 */
export function lostLeaseAck(record: JobRecord, now: number, error: string): AckInput {
  if (record.leaseToken === null) {
    throw new ReseolioError('RESEOLIO_STORAGE_CONTRACT', `Job ${record.id} has no lease token.`);
  }
  const fence = { id: record.id, leaseToken: record.leaseToken, leaseExpiredBefore: now };
  return isLastAttempt(record)
    ? { ...fence, kind: 'dead', error, now }
    : { ...fence, kind: 'retry', error, runAt: now, now };
}

/** The jobs one sweep took back, as they are after it. */
export interface SweepResult {
  /** Put back to `pending` at the sweep's `now` for another attempt. */
  requeued: JobRecord[];
  /** Had used their last attempt: now `dead`. */
  dead: JobRecord[];
}

/** Jobs listed per step; a sweep takes as many steps as it needs. */
export const SWEEP_BATCH = 100;

/**
 * Ends every attempt whose lease expired strictly before `now`: lists them in bounded batches
 * and writes each one's outcome ({@link lostLeaseAck}) with `ackMany`. Only the acks that
 * applied are returned, so each lost attempt is reported by exactly one sweeping node: when
 * nodes sweep at once, or the owner's heartbeat wins, the others' fences fail. Events
 * (`ready`, `finished`) come from the acks, as for any other outcome.
 */
export async function sweepExpiredLeases(
  storage: StorageAdapter,
  { now, error, batchSize = SWEEP_BATCH }: { now: number; error: string; batchSize?: number },
): Promise<SweepResult> {
  const result: SweepResult = { requeued: [], dead: [] };
  for (;;) {
    const listed = await storage.listExpiredLeases({ now, limit: batchSize });
    // Running jobs always carry a token (every claim writes one); one without could not be
    // fenced, so it is left out rather than acked unfenced.
    const expired = listed.filter(
      (record) => record.status === 'running' && record.leaseToken !== null,
    );
    const acks = expired.map((record) => lostLeaseAck(record, now, error));
    const applied = acks.length === 0 ? [] : await storage.ackMany(acks);
    let progressed = false;
    expired.forEach((record, i) => {
      if (applied[i] !== true) return;
      progressed = true;
      const after = { ...record, ownerId: null, leaseExpiresAt: null, error };
      const ack = acks[i]!;
      if (ack.kind === 'dead') result.dead.push({ ...after, status: 'dead', completedAt: now });
      else result.requeued.push({ ...after, status: 'pending', runAt: now });
    });
    // A short batch was the last; a full one where nothing applied (every fence lost to a
    // heartbeat or another sweeper) would only list the same jobs again.
    if (listed.length < batchSize || !progressed) break;
  }
  return result;
}
