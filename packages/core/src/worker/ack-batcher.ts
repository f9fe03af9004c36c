import type { EngineLogger } from '../logging/engine-logger.ts';
import type { AckInput, JobRecord } from '../storage/records.ts';
import type { StorageAdapter } from '../storage/storage.ts';

/** Outcomes per `ackMany` call; bounds statement size and how long one write takes. */
const MAX_ACK_BATCH = 500;

/**
 * Writes the outcomes of attempts, coalesced: the attempts that end in one event-loop turn
 * (a claimed batch of fast jobs) share one `ackMany`, and outcomes that arrive while a batch
 * is in flight form the next one. A lone outcome waits well under a millisecond.
 */
export class AckBatcher {
  readonly #deps: AckBatcherDeps;
  #queue: PendingAck[] = [];
  /** A flush is scheduled or running. */
  #flushing = false;

  constructor(deps: AckBatcherDeps) {
    this.#deps = deps;
  }

  /**
   * Writes one outcome, fenced on (id, lease token, `running`). Resolves true once it is
   * committed; false when the fence did not match (the lease was lost or the job cancelled:
   * someone else owns the outcome now) or the write failed. A failed write is reported; the
   * lease then expires and the sweeper gives the job another attempt, so nothing is lost, at
   * worst run again.
   */
  write(input: AckInput, record: JobRecord): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.#queue.push({ input, record, resolve });
      this.#deps.onQueued();
      if (this.#flushing) return;
      this.#flushing = true;
      const turn = new Promise<void>((next) => setImmediate(next));
      this.#deps.track(turn.then(() => this.#flush()));
    });
  }

  async #flush(): Promise<void> {
    const { storage, logger } = this.#deps;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_ACK_BATCH);
        let answers: boolean[] | undefined;
        try {
          answers = await storage.ackMany(batch.map((pending) => pending.input));
        } catch (error) {
          this.#deps.report(`recording the outcomes of ${batch.length} job(s) failed`, error);
        }
        batch.forEach(({ input, record, resolve }, i) => {
          const ok = answers?.[i] === true;
          if (answers && !ok) {
            logger.job(
              'warn',
              { id: record.id, name: record.name, attempt: record.attempt },
              `its lease was lost before the ${input.kind} was recorded; the outcome was discarded`,
            );
          }
          resolve(ok);
        });
        this.#deps.onWritten(batch.length);
      }
    } finally {
      this.#flushing = false;
    }
  }
}

export interface AckBatcherDeps {
  storage: StorageAdapter;
  logger: EngineLogger;
  /** An outcome joined the queue (the slot ledger's outcome budget). */
  onQueued(): void;
  /** `count` outcomes were answered, committed or not. */
  onWritten(count: number): void;
  /** Registers work in flight, so `stop()` waits for it. */
  track(work: Promise<unknown>): void;
  report(message: string, error: unknown): void;
}

/** An outcome waiting to be written. */
interface PendingAck {
  input: AckInput;
  record: JobRecord;
  resolve(acked: boolean): void;
}
