import type { AttemptRecord, JobRecord } from './storage/records.ts';
import type { AttemptInfo, StoredError } from './types.ts';

/**
 * A job's attempts as `details().attempts` shows them: the ended ones storage recorded, then
 * the running one, which is the job row itself (claims write no attempt row: the hot path
 * stays one statement). `attempts` must be read after `record`: an attempt that ended between
 * the two reads is then both running in `record` and recorded, and is shown once, as ended
 * (its lease token names it in both).
 */
export function attemptsOf(record: JobRecord, attempts: readonly AttemptRecord[]): AttemptInfo[] {
  const infos = attempts.map(
    (a): AttemptInfo => ({
      attempt: a.attempt,
      startedAt: new Date(a.startedAt),
      endedAt: new Date(a.endedAt),
      outcome: a.outcome,
      error: a.error === null ? null : (JSON.parse(a.error) as StoredError),
      workerId: a.workerId,
    }),
  );
  const running =
    record.status === 'running' && !attempts.some((a) => a.leaseToken === record.leaseToken);
  if (running) {
    infos.push({
      attempt: record.attempt,
      startedAt: new Date(record.startedAt ?? record.createdAt),
      endedAt: null,
      outcome: 'running',
      error: null,
      workerId: record.ownerId,
    });
  }
  return infos;
}
