import { describeValue } from './describe-value.ts';

/**
 * Every error Reseolio throws on purpose is a `ReseolioError` with a stable `code`, so callers
 * can branch on `err.code` without matching messages. Messages say what to do next.
 */
export class ReseolioError extends Error {
  /** A stable, machine-readable identifier such as `RESEOLIO_INVALID_OPTION`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option, name or argument was rejected before anything was stored. */
export class ReseolioValidationError extends ReseolioError {
  constructor(message: string, code = 'RESEOLIO_INVALID_INPUT', options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A cron expression or time zone that cannot be used; nothing was stored. The message names the
 * value (shortened to 200 characters) and the forms that are accepted.
 */
export class InvalidScheduleError extends ReseolioValidationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'RESEOLIO_INVALID_SCHEDULE', options);
  }
}

/**
 * An argument list or a result cannot be stored faithfully (a function, a symbol, a class
 * instance, a cycle…; the message names the path to the value), or a stored payload cannot be
 * read back.
 */
export class SerializationError extends ReseolioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RESEOLIO_UNSERIALIZABLE', message, options);
  }
}

/** A serialized payload is larger than `maxPayloadBytes`. */
export class PayloadTooLargeError extends ReseolioError {
  readonly sizeBytes: number;
  readonly limitBytes: number;

  constructor(what: string, sizeBytes: number, limitBytes: number) {
    super(
      'RESEOLIO_PAYLOAD_TOO_LARGE',
      `${what} is ${sizeBytes} bytes once serialized, over the limit of ${limitBytes} bytes. ` +
        'Pass ids and load the data inside the handler, or raise `maxPayloadBytes`.',
    );
    this.sizeBytes = sizeBytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * A storage URL, an adapter option, or a database could not be used as given: fix the
 * configuration, retrying will not help. Examples: an unknown URL scheme, a SQLite file in a
 * folder that does not exist or that is not a database, a read-only connection. The driver's
 * error, when there was one, is the `cause`.
 */
export class StorageConfigError extends ReseolioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RESEOLIO_STORAGE_CONFIG', message, options);
  }
}

/** What a {@link StorageError} knows besides its message. */
export interface StorageErrorOptions {
  /** The driver's error, unchanged. */
  cause?: unknown;
  /** The adapter operation that failed: `enqueue`, `claim`, `getJob`, `init`… */
  operation?: string | undefined;
  /** The driver's own code: a PostgreSQL SQLSTATE (`40P01`), `SQLITE_BUSY`, `ECONNRESET`… */
  driverCode?: string | undefined;
}

/**
 * The database failed an operation: a lock wait that timed out, a full disk, a connection that
 * stayed broken, a damaged file, a statement the server refused. Storage adapters throw this
 * class, or a subclass of it (`PostgresStorageError`, `SqliteStorageError`), for every failure
 * of their database driver, never the driver's own error: that one is the `cause`, its code is
 * in `driverCode`, and `operation` names the adapter call that failed. Every adapter's storage
 * errors share the code `RESEOLIO_STORAGE`, so `err.code === 'RESEOLIO_STORAGE'` catches all of
 * them whichever database is configured. The HTTP job routes answer it with 503.
 *
 * Not for configuration problems: a storage URL, an option, or a database file that cannot be
 * used as given (a missing folder, a file that is not a database) is a {@link StorageConfigError}.
 * Nor for the outcomes the storage contract describes (an unknown job, a fenced ack that matched
 * nothing): those are return values.
 */
export class StorageError extends ReseolioError {
  /** The adapter operation that failed, when the adapter said. */
  readonly operation: string | undefined;
  /** The driver's code (`SQLITE_FULL`, SQLSTATE `23505`, `ECONNREFUSED`…), when it had one. */
  readonly driverCode: string | undefined;

  constructor(message: string, options?: StorageErrorOptions) {
    super('RESEOLIO_STORAGE', message, options);
    this.operation = options?.operation;
    this.driverCode = options?.driverCode;
  }
}

/** Registering a name that this instance already registered. */
export class DuplicateFunctionError extends ReseolioError {
  constructor(name: string) {
    super(
      'RESEOLIO_DUPLICATE_FUNCTION',
      `A durable function named "${name}" is already registered on this Reseolio instance. ` +
        'Names identify jobs across deploys: give each function its own name.',
    );
  }
}

/** The engine is not in a state that allows the call (not started, already stopped). */
export class ReseolioStateError extends ReseolioError {
  constructor(message: string) {
    super('RESEOLIO_INVALID_STATE', message);
  }
}

/** The job is unknown to storage. */
/** `updateSchedule`, `pauseSchedule`, `resumeSchedule` or `triggerSchedule` of an unknown id. */
export class ScheduleNotFoundError extends ReseolioError {
  readonly scheduleId: string;

  constructor(scheduleId: string) {
    super(
      'RESEOLIO_SCHEDULE_NOT_FOUND',
      `No schedule with id ${describeValue(scheduleId)} exists in this storage; ` +
        'declare it with reseolio.schedule(id, fn, { cron }).',
    );
    this.scheduleId = scheduleId;
  }
}

export class JobNotFoundError extends ReseolioError {
  readonly jobId: string;

  constructor(jobId: string) {
    // Any string reaches here (getHandle, the job routes' `:id`): shown shortened.
    super(
      'RESEOLIO_JOB_NOT_FOUND',
      `No job with id ${describeValue(jobId)} exists in this storage.`,
    );
    this.jobId = jobId;
  }
}

/**
 * Thrown by a handler to end the job at once, without further attempts. An error with
 * `retryable: false` is treated the same way.
 */
export class NonRetryableError extends Error {
  readonly retryable = false as const;
  readonly code?: string;

  constructor(message: string, options?: { cause?: unknown; code?: string | undefined }) {
    super(message, options);
    this.name = 'NonRetryableError';
    if (options?.code !== undefined) this.code = options.code;
  }
}

/** `result()` on a job that ended `dead`; carries the last attempt's error. */
export class JobFailedError extends ReseolioError {
  readonly jobId: string;
  /** The `name` of the error the last attempt threw. */
  readonly errorName: string;
  /** The `code` of the error the last attempt threw, when it had one. */
  readonly errorCode: string | undefined;

  constructor(jobId: string, error: { name: string; message: string; code?: string | undefined }) {
    super('RESEOLIO_JOB_FAILED', `Job ${jobId} failed: ${error.name}: ${error.message}`);
    this.jobId = jobId;
    this.errorName = error.name;
    this.errorCode = error.code;
  }
}

/** `result()` on a job that was cancelled. */
export class JobCancelledError extends ReseolioError {
  readonly jobId: string;

  constructor(jobId: string) {
    super('RESEOLIO_JOB_CANCELLED', `Job ${jobId} was cancelled.`);
    this.jobId = jobId;
  }
}

/** `result(timeoutMs)` gave up waiting; the job itself keeps running. */
export class ResultTimeoutError extends ReseolioError {
  readonly jobId: string;
  readonly timeoutMs: number;

  constructor(jobId: string, timeoutMs: number) {
    super(
      'RESEOLIO_RESULT_TIMEOUT',
      `Job ${jobId} did not finish within ${timeoutMs} ms. The job keeps running; ` +
        'call result() again or fetch it later with getHandle(jobId).',
    );
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
  }
}

/** An attempt ran longer than its `timeoutMs`; counts as a failed, retryable attempt. */
export class AttemptTimeoutError extends ReseolioError {
  constructor(timeoutMs: number) {
    super('RESEOLIO_ATTEMPT_TIMEOUT', `The attempt did not finish within ${timeoutMs} ms.`);
  }
}

/**
 * The `signal.reason` of an attempt whose handler suspended (a long `sleep`, a
 * `waitForSignal`, children awaited past `suspendAfterMs`): the job is `waiting` and runs its
 * handler again when it wakes.
 */
export class JobSuspendedError extends ReseolioError {
  readonly jobId: string;

  constructor(jobId: string) {
    super(
      'RESEOLIO_JOB_SUSPENDED',
      `Job ${jobId} suspended: it is waiting, and its handler runs again when it wakes.`,
    );
    this.jobId = jobId;
  }
}

/** A running attempt's lease expired (its process died or stalled); recorded by the sweeper. */
export class LeaseExpiredError extends ReseolioError {
  constructor() {
    super(
      'RESEOLIO_LEASE_EXPIRED',
      'The worker running this attempt stopped heartbeating before its lease expired.',
    );
  }
}
