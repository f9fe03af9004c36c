import type { JobRecord, JobStatus } from 'reseolio/storage';
import type { Row } from './sql-executor.ts';

/** The column list every query returns, in `JobRecord` order. */
export const JOB_COLUMNS =
  'id, name, status, args, result, error, policy, attempt, max_attempts, idempotency_key, ' +
  'parent_id, schedule_id, priority, concurrency_key, rate_limit_key, owner_id, lease_token, ' +
  'lease_expires_at, created_at, run_at, started_at, completed_at, waiting_for, ' +
  'trace_context, progress';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids are `uuid` columns. A string that is not a UUID cannot name a job, so lookups answer
 * "unknown" for it instead of letting PostgreSQL raise `22P02`.
 */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

// node-postgres returns int8 as a string (it may exceed 2^53); epoch ms never does.
function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toJobRecord(row: Row): JobRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    status: row.status as JobStatus,
    args: row.args as string,
    result: (row.result as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    policy: row.policy as string,
    attempt: toNumber(row.attempt),
    maxAttempts: toNumber(row.max_attempts),
    idempotencyKey: (row.idempotency_key as string | null) ?? null,
    parentId: (row.parent_id as string | null) ?? null,
    scheduleId: (row.schedule_id as string | null) ?? null,
    priority: toNumber(row.priority),
    concurrencyKey: (row.concurrency_key as string | null) ?? null,
    rateLimitKey: (row.rate_limit_key as string | null) ?? null,
    ownerId: (row.owner_id as string | null) ?? null,
    leaseToken: (row.lease_token as string | null) ?? null,
    leaseExpiresAt: toNumberOrNull(row.lease_expires_at),
    createdAt: toNumber(row.created_at),
    runAt: toNumber(row.run_at),
    startedAt: toNumberOrNull(row.started_at),
    completedAt: toNumberOrNull(row.completed_at),
    waitingFor: (row.waiting_for as string | null) ?? null,
    traceContext: (row.trace_context as string | null) ?? null,
    progress: (row.progress as string | null) ?? null,
  };
}
