/**
 * The metrics Reseolio records, one table for both ways out: the OpenTelemetry meter
 * `reseolio` (names with dots, `unit` in UCUM) and the Prometheus text the framework packages
 * serve at `/metrics` (`prometheus`: the name OpenTelemetry's own Prometheus exporter gives the
 * same instrument, so one dashboard works with either). `kind` is the instrument (`gauge`:
 * an observable gauge, read at collection), `labels` its attributes, the same on both:
 * `function` (the durable function's name), `outcome`, `status`, `state`.
 */
export const METRICS = Object.freeze({
  /** Counter: jobs this process stored (deduplicated calls not counted). Labels: function. */
  enqueued: {
    name: 'reseolio.jobs.enqueued',
    prometheus: 'reseolio_jobs_enqueued_total',
    kind: 'counter',
    labels: Object.freeze<string[]>(['function']),
    unit: '{job}',
    description: 'Jobs enqueued.',
  },
  /**
   * Counter: jobs that reached a final status through this process (its attempts, its sweeps
   * of expired leases, its cancels). Labels: function, outcome (success | dead | cancelled).
   */
  completed: {
    name: 'reseolio.jobs.completed',
    prometheus: 'reseolio_jobs_completed_total',
    kind: 'counter',
    labels: Object.freeze<string[]>(['function', 'outcome']),
    unit: '{job}',
    description: 'Jobs that reached a final status (success, dead or cancelled).',
  },
  /**
   * Histogram: how long each attempt's handler ran, in seconds. Labels: function, outcome
   * (success | failure | suspended).
   */
  attemptDuration: {
    name: 'reseolio.attempt.duration',
    prometheus: 'reseolio_attempt_duration_seconds',
    kind: 'histogram',
    labels: Object.freeze<string[]>(['function', 'outcome']),
    unit: 's',
    description: 'Duration of each attempt, from start to outcome.',
  },
  /** Histogram: from a job's due time (`runAt`) to its attempt's start, in seconds. Labels: function. */
  attemptLag: {
    name: 'reseolio.attempt.lag',
    prometheus: 'reseolio_attempt_lag_seconds',
    kind: 'histogram',
    labels: Object.freeze<string[]>(['function']),
    unit: 's',
    description: 'Time from when an attempt was due to when it started.',
  },
  /** Observable gauge: stored jobs (all processes). Labels: function, status. */
  jobs: {
    name: 'reseolio.jobs',
    prometheus: 'reseolio_jobs',
    kind: 'gauge',
    labels: Object.freeze<string[]>(['function', 'status']),
    unit: '{job}',
    description: 'Stored jobs by function and status.',
  },
  /**
   * Observable gauge: age of the oldest due job that is not running (pending, or waiting past
   * its wake time), in seconds; 0 when none. Labels: function.
   */
  oldestPendingAge: {
    name: 'reseolio.jobs.oldest_pending.age',
    prometheus: 'reseolio_jobs_oldest_pending_age_seconds',
    kind: 'gauge',
    labels: Object.freeze<string[]>(['function']),
    unit: 's',
    description: 'Age of the oldest due job not yet running.',
  },
  /** Observable gauge: this process's worker slots. Labels: state (busy | free). */
  workerSlots: {
    name: 'reseolio.worker.slots',
    prometheus: 'reseolio_worker_slots',
    kind: 'gauge',
    labels: Object.freeze<string[]>(['state']),
    unit: '{slot}',
    description: "This process's worker slots, busy or free.",
  },
  /**
   * Observable gauge: when this process's worker last heard from storage (a claim, a
   * heartbeat), as Unix time in seconds. An alert on `time() - max(...)` finds dead workers.
   */
  workerLastSeen: {
    name: 'reseolio.worker.last_seen',
    prometheus: 'reseolio_worker_last_seen_seconds',
    kind: 'gauge',
    labels: Object.freeze<string[]>([]),
    unit: 's',
    description: "Unix time of this process's worker's last round trip to storage.",
  },
});

/**
 * Histogram buckets for attempt durations and lags, in seconds, on both ways out (the OTel
 * meter's advice and the Prometheus registry): from 5 ms (a fast handler, a job claimed at
 * once) to 10 minutes (a long handler, a queue far behind). The SDK's default buckets are made
 * for milliseconds.
 */
export const SECONDS_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
]);

/** How an attempt ended, as the `outcome` label of `reseolio.attempt.duration`. */
export type AttemptOutcomeLabel = 'success' | 'failure' | 'suspended';

/** How a job ended, as the `outcome` label of `reseolio.jobs.completed`. */
export type CompletedOutcomeLabel = 'success' | 'dead' | 'cancelled';
