import type { JobStatus } from '../storage/records.ts';

/** `reseolio.stats()`: the stored jobs, counted in one aggregate read. */
export interface ReseolioStats {
  /** When the counts were read, on the database's clock. */
  at: Date;
  /** Every function with at least one stored job, by name. */
  functions: FunctionStats[];
  /** The sums over all functions, per status. */
  totals: Record<JobStatus, number>;
}

/** The stored jobs of one durable function. */
export interface FunctionStats {
  name: string;
  /** Jobs per status; every status is present, 0 when none. */
  counts: Record<JobStatus, number>;
  /**
   * Milliseconds since the oldest due job that is not running became due (`pending`, or
   * `waiting` past its wake time); null when there is none. A growing value means work waits
   * for a worker.
   */
  oldestPendingAgeMs: number | null;
}
