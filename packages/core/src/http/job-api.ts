import {
  JobCancelledError,
  JobFailedError,
  JobNotFoundError,
  PayloadTooLargeError,
  ReseolioStateError,
  ReseolioValidationError,
  ResultTimeoutError,
  ScheduleNotFoundError,
  SerializationError,
  StorageError,
} from '../errors.ts';
import { type JobJSON, toJobJSON } from '../job-json.ts';
import { MAX_LIST_LIMIT } from '../options/bounds.ts';
import { DEFAULT_LIST_LIMIT } from '../options/defaults.ts';
import type { Reseolio } from '../reseolio.ts';
import { FINAL_STATUSES, JOB_STATUSES, type JobStatus } from '../storage/records.ts';

/**
 * The job routes' behaviour, independent of any framework: each function takes the engine and
 * already-validated input and returns the HTTP status and JSON body to send. The Fastify,
 * Express and Nest integrations reach it through `createJobRouteHandler`, so their routes
 * answer the same way by construction.
 */

/** What a route answers. */
export interface ApiResponse {
  status: number;
  body: unknown;
}

/** The longest a `/result` request may wait, in milliseconds, unless `waitMaxMs` says otherwise. */
export const DEFAULT_WAIT_MAX_MS = 25_000;
/** `listJobs` bounds: the engine's own. */
export { DEFAULT_LIST_LIMIT, JOB_STATUSES, MAX_LIST_LIMIT };

export interface ListQuery {
  status?: JobStatus | undefined;
  name?: string | undefined;
  /** Runs of this schedule. */
  scheduleId?: string | undefined;
  limit: number;
  offset: number;
}

/** `GET /:id` → 200 `{ job }`. */
export async function getJob(engine: Reseolio, id: string): Promise<ApiResponse> {
  const details = await engine.getHandle(id).details();
  return { status: 200, body: { job: toJobJSON(details) } };
}

/** `GET /?status&name&scheduleId&limit&offset` → 200 `{ jobs, limit, offset }`, newest first. */
export async function listJobs(engine: Reseolio, query: ListQuery): Promise<ApiResponse> {
  const jobs = await engine.listJobs(query);
  return {
    status: 200,
    body: { jobs: jobs.map(toJobJSON), limit: query.limit, offset: query.offset },
  };
}

/** `POST /:id/retry` → 200 `{ job }` (pending again); 409 unless the job is dead or cancelled. */
export async function retryJob(engine: Reseolio, id: string): Promise<ApiResponse> {
  // The status alone: details() would also read the attempts.
  const before = await engine.getHandle(id).status();
  if (before !== 'dead' && before !== 'cancelled') {
    return errorResponse(
      409,
      'RESEOLIO_JOB_NOT_RETRYABLE',
      `Job ${id} is ${before}: only dead or cancelled jobs can be retried.`,
    );
  }
  const handle = await engine.retryJob(id);
  return { status: 200, body: { job: toJobJSON(await handle.details()) } };
}

/** `POST /:id/cancel` → 200 `{ job }`; 409 when the job had already finished. */
export async function cancelJob(engine: Reseolio, id: string): Promise<ApiResponse> {
  const handle = engine.getHandle(id);
  if (!(await handle.cancel())) {
    const status = await handle.status();
    return errorResponse(
      409,
      'RESEOLIO_JOB_FINISHED',
      `Job ${id} is already ${status}: only pending or running jobs can be cancelled.`,
    );
  }
  return { status: 200, body: { job: toJobJSON(await handle.details()) } };
}

/** What `POST /:id/signals/:topic` sends, parsed from its body (see `parseSignalBody`). */
export interface SignalInput {
  /** `undefined` when the body gave none. */
  payload: unknown;
  idempotencyKey?: string | undefined;
}

/**
 * `POST /:id/signals/:topic` → 202 `{ duplicate }`: the signal is stored (and a job waiting
 * for the topic wakes); `duplicate: true` when its idempotency key had been used for this job
 * already, and nothing was stored. 404 for an unknown job, 409 `RESEOLIO_INVALID_STATE` for
 * one that finished, 400 for a bad topic or key, 413 for a payload over `maxPayloadBytes`.
 */
export async function signalJob(
  engine: Reseolio,
  id: string,
  topic: string,
  input: SignalInput,
): Promise<ApiResponse> {
  const options =
    input.idempotencyKey === undefined ? undefined : { idempotencyKey: input.idempotencyKey };
  const { duplicate } = await engine.signal(id, topic, input.payload, options);
  return { status: 202, body: { duplicate } };
}

/**
 * `GET /:id/result?waitMs=N`: waits up to `min(N, waitMaxMs)` milliseconds for the job to
 * finish. 200 `{ jobId, status: 'success', result }`; 202 `{ jobId, status }` while it is not
 * finished; 409 `{ jobId, status, error, jobError }` when it ended dead or cancelled.
 */
export async function jobResult(
  engine: Reseolio,
  id: string,
  waitMs: number,
  waitMaxMs: number,
): Promise<ApiResponse> {
  const handle = engine.getHandle(id);
  let details = await handle.details();
  const wait = Math.min(waitMs, waitMaxMs);
  if (!isFinal(details.status) && wait > 0) {
    // result() rejects for every ending but success, and on timeout; the re-read below says
    // which happened, so those rejections carry no information we need.
    await handle.result(wait).catch((error: unknown) => {
      if (isRejectionOfWait(error)) return;
      throw error;
    });
    details = await handle.details();
  }
  const json: JobJSON = toJobJSON(details);
  switch (details.status) {
    case 'success':
      return { status: 200, body: { jobId: id, status: json.status, result: json.result } };
    case 'dead':
      return {
        status: 409,
        body: {
          jobId: id,
          status: json.status,
          error: { code: 'RESEOLIO_JOB_FAILED', message: `Job ${id} ended dead.` },
          jobError: json.error,
        },
      };
    case 'cancelled':
      return {
        status: 409,
        body: {
          jobId: id,
          status: json.status,
          error: { code: 'RESEOLIO_JOB_CANCELLED', message: `Job ${id} was cancelled.` },
          jobError: null,
        },
      };
    default:
      return { status: 202, body: { jobId: id, status: json.status } };
  }
}

/** What a route answers when the database failed (a `StorageError`), whatever the adapter. */
export const STORAGE_UNAVAILABLE_MESSAGE =
  'The job database failed or is unavailable; try again later.';

/**
 * Maps the engine's own errors to a response: unknown job or schedule 404, bad input 400
 * (`RESEOLIO_INVALID_INPUT`, or `RESEOLIO_UNSERIALIZABLE`), a payload over `maxPayloadBytes`
 * 413 (`RESEOLIO_PAYLOAD_TOO_LARGE`), a job in the wrong state 409, an engine that is shutting down 503, a database that failed
 * (`StorageError`) 503. The storage answer says only that: the driver's message may name
 * tables, hosts or values and is for the server's logs, not the caller. Returns `undefined`
 * for anything else so the framework's error handler deals with it as with any other failure.
 */
export function responseForError(engine: Reseolio, error: unknown): ApiResponse | undefined {
  if (error instanceof JobNotFoundError || error instanceof ScheduleNotFoundError) {
    return errorResponse(404, error.code, error.message);
  }
  if (error instanceof ReseolioValidationError) {
    return errorResponse(400, 'RESEOLIO_INVALID_INPUT', error.message);
  }
  if (error instanceof SerializationError) {
    return errorResponse(400, error.code, error.message);
  }
  if (error instanceof PayloadTooLargeError) {
    return errorResponse(413, error.code, error.message);
  }
  if (error instanceof ReseolioStateError) {
    const down = engine.state === 'stopping' || engine.state === 'stopped';
    return errorResponse(down ? 503 : 409, error.code, error.message);
  }
  if (error instanceof StorageError) {
    return errorResponse(503, error.code, STORAGE_UNAVAILABLE_MESSAGE);
  }
  return undefined;
}

/**
 * Runs one route's action and turns the engine's errors into responses. `onStorageError`
 * hears every `StorageError` answered with 503, so the integration can log what the caller
 * is not shown.
 */
export async function runJobApi(
  engine: Reseolio,
  action: () => Promise<ApiResponse>,
  onStorageError?: (error: StorageError) => void,
): Promise<ApiResponse> {
  try {
    return await action();
  } catch (error) {
    const response = responseForError(engine, error);
    if (response === undefined) throw error;
    if (error instanceof StorageError) onStorageError?.(error);
    return response;
  }
}

/** The body of every error answer: `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string): ApiResponse {
  return { status, body: { error: { code, message } } };
}

function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

function isRejectionOfWait(error: unknown): boolean {
  return (
    error instanceof ResultTimeoutError ||
    error instanceof JobFailedError ||
    error instanceof JobCancelledError
  );
}
