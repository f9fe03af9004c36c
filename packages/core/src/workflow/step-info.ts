import { deserialize } from '../serialization/decode.ts';
import type { StepRecord } from '../storage/workflow-records.ts';
import type { StepInfo } from '../types.ts';

/**
 * The journal keys the workflow primitives write (see `primitives.ts`): `step:<name>#<n>`,
 * `sleep#<n>`, `signal:<topic>#<n>`, and `signal:<topic>#<n>:until` for a signal wait's
 * deadline. Names and topics may contain `#` and `:`, so the occurrence is read from the
 * last `#`, after the deadline suffix is set aside.
 */
const DEADLINE_SUFFIX = ':until';

/**
 * A job's journal as `details().steps` shows it: steps, sleeps and received signals in the
 * order they were recorded, to the millisecond (storage keeps no finer order: PostgreSQL's
 * steps table is keyed by job and key alone). Entries of one millisecond are ordered by kind
 * and name, then occurrence, so a repeated name reads in call order. A signal wait's recorded
 * deadline is bookkeeping, not an event of the run, and is left out; so is any key this
 * version does not know (a newer engine's), rather than shown wrong.
 */
export function stepsOf(records: readonly StepRecord[]): StepInfo[] {
  const infos: StepInfo[] = [];
  for (const record of records) {
    const info = stepInfo(record);
    if (info !== undefined) infos.push(info);
  }
  infos.sort(
    (a, b) =>
      a.recordedAt.getTime() - b.recordedAt.getTime() ||
      compareText(`${a.kind}:${a.name ?? ''}`, `${b.kind}:${b.name ?? ''}`) ||
      a.occurrence - b.occurrence,
  );
  return infos;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function stepInfo(record: StepRecord): StepInfo | undefined {
  const { key } = record;
  const hash = key.lastIndexOf('#');
  if (hash < 0) return undefined;
  const occurrenceText = key.slice(hash + 1);
  if (!/^\d+$/.test(occurrenceText)) return undefined; // a deadline (`#0:until`) or unknown
  const occurrence = Number(occurrenceText);
  const head = key.slice(0, hash);
  const recordedAt = new Date(record.createdAt);
  if (head === 'sleep') {
    return {
      kind: 'sleep',
      name: null,
      occurrence,
      value: new Date(decode(record.value) as number),
      recordedAt,
    };
  }
  for (const kind of ['step', 'signal'] as const) {
    const prefix = `${kind}:`;
    if (head.startsWith(prefix) && !key.endsWith(DEADLINE_SUFFIX)) {
      return {
        kind,
        name: head.slice(prefix.length),
        occurrence,
        value: decode(record.value),
        recordedAt,
      };
    }
  }
  return undefined;
}

/** A recorded value, decoded; one that cannot be (written by a newer engine) shows as text. */
function decode(value: string): unknown {
  try {
    return deserialize(value);
  } catch {
    return value;
  }
}
