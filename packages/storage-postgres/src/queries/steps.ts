import type {
  ConsumeSignalInput,
  ConsumeSignalResult,
  RecordStepInput,
  RecordStepResult,
  StepRecord,
} from 'reseolio/storage';
import { isUuid } from '../job-row.ts';
import type { SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/** Every recorded step of a job (none for an unknown job). */
export async function listSteps(
  exec: SqlExecutor,
  names: SchemaNames,
  jobId: string,
): Promise<StepRecord[]> {
  if (!isUuid(jobId)) return [];
  const rows = await exec(
    `SELECT key, value, created_at FROM ${names.steps} WHERE job_id = $1 ORDER BY key`,
    [jobId],
  );
  return rows.map((row) => ({
    key: row.key as string,
    value: row.value as string,
    createdAt: Number(row.created_at),
  }));
}

/** The attempt's fence as a CTE `fence` (one row while the attempt holds the job `$1`/`$2`). */
function fenceSql(names: SchemaNames): string {
  return `fence AS (
      SELECT id FROM ${names.jobs} WHERE id = $1 AND lease_token = $2 AND status = 'running'
    )`;
}

/**
 * Records a step, fenced on the attempt, in one statement: the INSERT happens only while the
 * fence holds, and a key already recorded keeps its first value (`ON CONFLICT DO NOTHING`).
 * The answer tells the three apart: fenced out, recorded, or the key existed.
 */
export async function recordStep(
  exec: SqlExecutor,
  names: SchemaNames,
  input: RecordStepInput,
): Promise<RecordStepResult> {
  if (!isUuid(input.id)) return 'fenced-out';
  const [row] = await exec(
    `
    WITH ${fenceSql(names)}, recorded AS (
      INSERT INTO ${names.steps} (job_id, key, value, created_at)
      SELECT id, $3, $4, $5 FROM fence
      ON CONFLICT (job_id, key) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM fence) AS fenced_in, (SELECT count(*) FROM recorded) AS recorded`,
    [input.id, input.leaseToken, input.key, input.value, input.now],
  );
  if (Number(row!.fenced_in) === 0) return 'fenced-out';
  return Number(row!.recorded) > 0 ? 'recorded' : 'exists';
}

/**
 * After a connection error: whether an earlier send of this step committed (its reply lost),
 * so a re-send that finds the key answers `recorded`, not `exists`. The same key with the same
 * value and time is taken to be ours.
 */
export async function stepWasRecorded(
  exec: SqlExecutor,
  names: SchemaNames,
  input: { id: string; key: string; now: number },
): Promise<StepRecord | undefined> {
  if (!isUuid(input.id)) return undefined;
  const [row] = await exec(
    `SELECT key, value, created_at FROM ${names.steps} WHERE job_id = $1 AND key = $2 AND created_at = $3`,
    [input.id, input.key, input.now],
  );
  return row
    ? { key: row.key as string, value: row.value as string, createdAt: Number(row.created_at) }
    : undefined;
}

/**
 * Consumes the oldest unconsumed signal of a topic and records its payload as the step `key`,
 * in one statement, fenced on the attempt. The signal row is locked (`FOR UPDATE`) and its
 * `consumed_at IS NULL` checked again on the locked version: a second consumer of the same
 * signal waits for the first, then finds it consumed and moves on to the next signal in id
 * order (or none), so a signal is never handed out twice.
 */
export async function consumeSignal(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ConsumeSignalInput,
): Promise<ConsumeSignalResult> {
  if (!isUuid(input.id)) return { status: 'fenced-out' };
  const [row] = await exec(
    `
    WITH ${fenceSql(names)}, next AS (
      SELECT s.id FROM ${names.signals} AS s
      WHERE s.job_id = (SELECT id FROM fence) AND s.topic = $3 AND s.consumed_at IS NULL
      ORDER BY s.id
      LIMIT 1
      FOR UPDATE
    ), consumed AS (
      UPDATE ${names.signals} AS s SET consumed_at = $5
      FROM next
      WHERE s.id = next.id AND s.consumed_at IS NULL
      RETURNING s.payload
    ), recorded AS (
      INSERT INTO ${names.steps} (job_id, key, value, created_at)
      SELECT $1, $4, payload, $5 FROM consumed
      ON CONFLICT (job_id, key) DO NOTHING
    )
    SELECT (SELECT count(*) FROM fence) AS fenced_in, (SELECT payload FROM consumed) AS payload`,
    [input.id, input.leaseToken, input.topic, input.key, input.now],
  );
  if (Number(row!.fenced_in) === 0) return { status: 'fenced-out' };
  if (row!.payload === null) return { status: 'none' };
  return { status: 'consumed', payload: row!.payload as string };
}
