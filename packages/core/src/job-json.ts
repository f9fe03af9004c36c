import type { ScheduleInfo } from './schedules/types.ts';
import type { JobStatus } from './storage/records.ts';
import type {
  ScheduleCatchUp,
  ScheduleOverlap,
  ScheduleStatus,
} from './storage/schedule-records.ts';
import type { AttemptInfoOutcome, JobDetails, StepInfo, StoredError } from './types.ts';
import type { WaitingFor } from './workflow/waiting-for.ts';

/** A job as plain JSON, for HTTP APIs (the framework packages' job routes use it). */
export interface JobJSON {
  id: string;
  name: string;
  status: JobStatus;
  args: unknown;
  result: unknown;
  error: Omit<StoredError, 'stack'> | null;
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  parentId: string | null;
  scheduleId: string | null;
  priority: number;
  concurrencyKey: string | null;
  rateLimitKey: string | null;
  /** While `waiting`: what for, dates as ISO strings. */
  waitingFor:
    | { kind: 'sleep'; until: string }
    | { kind: 'signal'; topic: string; until: string | null }
    | { kind: 'children'; jobIds: string[] }
    | null;
  /** The last reported progress (JSON data as reported), or null before any report. */
  progress: unknown;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  completedAt: string | null;
  /** Every attempt, when the details carried them (`handle.details()` does; list rows do not). */
  attempts?: AttemptJSON[];
  /** The workflow's journal, when the details carried it (`handle.details()` does). */
  steps?: StepJSON[];
}

/** One journal entry as plain JSON (`JobJSON.steps`): its value JSON-safe, time ISO. */
export interface StepJSON {
  kind: StepInfo['kind'];
  name: string | null;
  occurrence: number;
  value: unknown;
  recordedAt: string;
}

/** One attempt as plain JSON (`JobJSON.attempts`): dates as ISO strings, no stack. */
export interface AttemptJSON {
  attempt: number;
  startedAt: string;
  endedAt: string | null;
  outcome: AttemptInfoOutcome;
  error: Omit<StoredError, 'stack'> | null;
  workerId: string | null;
}

/**
 * Converts job details to JSON-safe data: dates become ISO strings (an invalid one null),
 * BigInt a decimal string, NaN and ±Infinity strings, Map an object of entries (or an entry
 * list when keys are not strings), Set an array, Uint8Array, Buffer, ArrayBuffer and DataView
 * base64, other typed arrays arrays of numbers (of decimal strings for BigInt64Array and
 * BigUint64Array), URL its href. Keys stay data: an own `__proto__` key is written as a key.
 * Stacks are left out: they reveal paths and belong in logs, not in HTTP responses.
 */
export function toJobJSON(details: JobDetails): JobJSON {
  return {
    id: details.id,
    name: details.name,
    status: details.status,
    args: toJSONValue(details.args),
    result: toJSONValue(details.result),
    error: details.error ? withoutStack(details.error) : null,
    attempt: details.attempt,
    maxAttempts: details.maxAttempts,
    idempotencyKey: details.idempotencyKey,
    parentId: details.parentId,
    scheduleId: details.scheduleId,
    priority: details.priority,
    concurrencyKey: details.concurrencyKey,
    rateLimitKey: details.rateLimitKey,
    waitingFor: waitingForJSON(details.waitingFor),
    progress: toJSONValue(details.progress),
    createdAt: details.createdAt.toISOString(),
    runAt: details.runAt.toISOString(),
    startedAt: details.startedAt?.toISOString() ?? null,
    completedAt: details.completedAt?.toISOString() ?? null,
    ...(details.attempts === undefined
      ? {}
      : {
          attempts: details.attempts.map((a) => ({
            attempt: a.attempt,
            startedAt: a.startedAt.toISOString(),
            endedAt: a.endedAt?.toISOString() ?? null,
            outcome: a.outcome,
            error: a.error ? withoutStack(a.error) : null,
            workerId: a.workerId,
          })),
        }),
    ...(details.steps === undefined
      ? {}
      : {
          steps: details.steps.map((step) => ({
            kind: step.kind,
            name: step.name,
            occurrence: step.occurrence,
            value: toJSONValue(step.value),
            recordedAt: step.recordedAt.toISOString(),
          })),
        }),
  };
}

/** A schedule as plain JSON, for HTTP APIs (the framework packages' schedule routes use it). */
export interface ScheduleJSON {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  args: unknown;
  status: ScheduleStatus;
  catchUp: ScheduleCatchUp;
  catchUpWindowMs: number;
  overlap: ScheduleOverlap;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastJobId: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Converts a schedule to JSON-safe data: dates become ISO strings, the stored arguments go
 * through {@link toJSONValue} as a job's do.
 */
export function toScheduleJSON(info: ScheduleInfo): ScheduleJSON {
  return {
    id: info.id,
    name: info.name,
    cron: info.cron,
    timezone: info.timezone,
    args: toJSONValue(info.args),
    status: info.status,
    catchUp: info.catchUp,
    catchUpWindowMs: info.catchUpWindowMs,
    overlap: info.overlap,
    nextRunAt: info.nextRunAt?.toISOString() ?? null,
    lastRunAt: info.lastRunAt?.toISOString() ?? null,
    lastJobId: info.lastJobId,
    createdAt: info.createdAt.toISOString(),
    updatedAt: info.updatedAt.toISOString(),
  };
}

/** Any value the engine round-trips, made JSON-safe (see `toJobJSON`). */
export function toJSONValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(toJSONValue);
  if (value instanceof Set) return [...value].map(toJSONValue);
  if (value instanceof Map) {
    const entries = [...value];
    // Object.fromEntries defines own properties: a "__proto__" key stays a key.
    return entries.every(([k]) => typeof k === 'string')
      ? Object.fromEntries(entries.map(([k, v]) => [k, toJSONValue(v)]))
      : entries.map(([k, v]) => [toJSONValue(k), toJSONValue(v)]);
  }
  if (value instanceof Uint8Array || value instanceof DataView) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  }
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, toJSONValue);
  }
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  if (value instanceof URL) return value.href;
  if (value instanceof RegExp) return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJSONValue(v)]));
}

function withoutStack(error: StoredError): Omit<StoredError, 'stack'> {
  const { stack: _stack, cause, ...rest } = error;
  return cause ? { ...rest, cause: withoutStack(cause) } : rest;
}

function waitingForJSON(waitingFor: WaitingFor | null): JobJSON['waitingFor'] {
  if (waitingFor === null) return null;
  switch (waitingFor.kind) {
    case 'sleep':
      return { kind: 'sleep', until: waitingFor.until.toISOString() };
    case 'signal':
      return {
        kind: 'signal',
        topic: waitingFor.topic,
        until: waitingFor.until?.toISOString() ?? null,
      };
    case 'children':
      return { kind: 'children', jobIds: [...waitingFor.jobIds] };
  }
}
