/**
 * The shapes of the dashboard API's answers that both sides spell out: the server builds them
 * (src/api) and the page reads them (src/ui). No imports, so the page's bundle, which cannot
 * load core's Node-typed declarations, can import it too; the server's builders still assign
 * core's values to these fields, so a new status or attempt outcome in core fails to compile
 * here rather than reaching the page unannounced.
 */

export type JobStatus = 'pending' | 'running' | 'waiting' | 'success' | 'dead' | 'cancelled';

/** An error as the dashboard shows it: with its stack and causes, for the operator. */
export interface ErrorView {
  name: string;
  message: string;
  code: string | null;
  stack: string | null;
  cause: ErrorView | null;
}

/** One attempt of a job, dates as ISO strings. */
export interface AttemptView {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  outcome: 'running' | 'success' | 'failed' | 'suspended' | 'released' | 'cancelled' | 'lost';
  error: ErrorView | null;
  workerId: string | null;
}

/** One alert on the overview. */
export interface Alert {
  kind: 'stuck' | 'no-worker';
  function: string;
  message: string;
}

/** One function's line on the overview. */
export interface FunctionOverview {
  name: string;
  counts: Record<JobStatus, number>;
  oldestPendingAgeMs: number | null;
  /** Jobs that ended in the last hour, by final status. */
  lastHour: { success: number; dead: number; cancelled: number };
  /** The same, per bucket, oldest first, every bucket present (zeros included). */
  throughput: Array<{ bucketStart: string; success: number; dead: number; cancelled: number }>;
  /** Whether the process serving the dashboard registered the function (it may run elsewhere). */
  registeredHere: boolean;
}
