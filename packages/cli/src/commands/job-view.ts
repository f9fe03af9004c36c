import type { JobDetails, StoredError } from 'reseolio';
import { formatTime } from '../format.ts';
import { jsonText } from '../json-text.ts';
import { formatFields, formatTable } from '../table.ts';

/** Jobs as a table: the columns that tell what each job is and where it stands. */
export function formatJobTable(jobs: readonly JobDetails[]): string {
  return formatTable(
    ['ID', 'NAME', 'STATUS', 'ATTEMPT', 'CREATED', 'RUN AT'],
    jobs.map((job) => [
      job.id,
      job.name,
      job.status,
      `${job.attempt}/${job.maxAttempts}`,
      formatTime(job.createdAt),
      formatTime(job.runAt),
    ]),
  );
}

/** Every field of one job, payloads as indented JSON. */
export function formatJob(job: JobDetails): string {
  const fields: [string, string][] = [
    ['id', job.id],
    ['name', job.name],
    ['status', job.status],
    ['attempt', `${job.attempt} of ${job.maxAttempts}`],
    ['priority', String(job.priority)],
    ['idempotency key', job.idempotencyKey ?? '-'],
    ['parent', job.parentId ?? '-'],
    ['schedule', job.scheduleId ?? '-'],
    ['concurrency key', job.concurrencyKey ?? '-'],
    ['rate-limit key', job.rateLimitKey ?? '-'],
    ['created', formatTime(job.createdAt)],
    ['run at', formatTime(job.runAt)],
    ['started', formatTime(job.startedAt)],
    ['completed', formatTime(job.completedAt)],
  ];
  if (job.waitingFor !== null) fields.push(['waiting for', jsonText(job.waitingFor)]);
  // `progress` is in the details of engines that record it (reportProgress).
  const progress = (job as { progress?: unknown }).progress;
  if (progress !== undefined && progress !== null) fields.push(['progress', jsonText(progress)]);
  const sections = [formatFields(fields), section('args', jsonText(job.args))];
  if (job.status === 'success') sections.push(section('result', jsonText(job.result ?? null)));
  if (job.error !== null) sections.push(section('error', formatError(job.error)));
  return sections.join('\n\n');
}

function section(title: string, body: string): string {
  return `${title}:\n${body
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n')}`;
}

/** A stored error as its stack (or name and message), its code, and its causes. */
function formatError(error: StoredError): string {
  const head = `${error.name}: ${error.message}${error.code ? ` [${error.code}]` : ''}`;
  const stackFrames = error.stack?.split('\n').filter((line) => /^\s+at /.test(line)) ?? [];
  const lines = [head, ...stackFrames.map((line) => `  ${line.trim()}`)];
  if (error.cause !== undefined) lines.push(`caused by ${formatError(error.cause)}`);
  return lines.join('\n');
}
