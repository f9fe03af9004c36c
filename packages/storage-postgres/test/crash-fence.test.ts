/**
 * A database crash that undoes a claim must not let the lost attempt's late ack through.
 *
 * Claims commit with `synchronous_commit` off (see `drizzle/0002_…`): a crash right after one
 * loses it, and the job is pending again with its attempt number given back. When the same
 * process claims it again it gets the same (id, attempt, owner), so a fence on those cannot
 * tell the lost attempt from the new one: the lost attempt's outcome is accepted. A fresh lease
 * token per claim tells them apart. On a private server (the crash must not touch the shared
 * one), the handler's first execution crashes the server right after its claim, waits until
 * the job was claimed again by the same engine and is running again, then returns 'first';
 * the second execution waits until the first one's outcome was written (or refused), then
 * returns 'second'. The job's result must be the second's.
 */
import { type PrivatePostgres, startPrivatePostgres, waitFor } from '@reseolio/test-utils';
import { currentJob, type Logger, Reseolio } from 'reseolio';
import type { AckInput } from 'reseolio/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresStorage } from '../src/index.ts';

/** Records, per job, the answers of the outcome writes the engine made, in order. */
class ObservedStorage extends PostgresStorage {
  readonly answers = new Map<string, (boolean | 'error')[]>();

  override async ackMany(inputs: readonly AckInput[]): Promise<boolean[]> {
    let answers: boolean[] | undefined;
    try {
      answers = await super.ackMany(inputs);
      return answers;
    } finally {
      inputs.forEach((input, i) => {
        const list = this.answers.get(input.id) ?? [];
        list.push(answers?.[i] ?? 'error');
        this.answers.set(input.id, list);
      });
    }
  }
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

let server: PrivatePostgres;
beforeAll(async () => {
  server = await startPrivatePostgres();
}, 120_000);
afterAll(() => server?.stop());

it('a late ack from an attempt whose claim a database crash undid changes nothing', async () => {
  const storage = new ObservedStorage({ connectionString: server.url, poolSize: 4 });
  // Leases and heartbeats far longer than the test: nothing but the crash may end an attempt,
  // and no heartbeat's synchronous commit may flush the claim before the crash.
  const worker = new Reseolio({
    storage,
    workerConcurrency: 2,
    leaseMs: 120_000,
    heartbeatIntervalMs: 60_000,
    pollIntervalMs: 100,
    logger: quiet,
  });
  // Enqueued from another engine: one that runs jobs would insert the job already leased to
  // itself (a synchronous commit), and there would be no claim to lose.
  const producer = new Reseolio({ storage: server.url, workerConcurrency: 0, logger: quiet });

  const executions: { attempt: number; signal: AbortSignal }[] = [];
  const options = { maxAttempts: 5, timeoutMs: 300_000 };
  const handler = async (): Promise<string> => {
    const job = currentJob()!;
    executions.push({ attempt: job.attempt, signal: job.signal });
    if (executions.length === 1) {
      // Right after the claim, before anything else has committed: the claim is lost.
      await server.restartImmediate();
      await waitFor(() => executions.length >= 2, 90_000).catch(() => {
        throw new Error(
          'the job was not run again after the crash: the claim survived it (precondition)',
        );
      });
      return 'first';
    }
    // The first execution has returned: wait until its outcome was written or refused (or the
    // engine dropped it: then it never writes one), so that it cannot come after ours.
    await waitFor(
      () => (storage.answers.get(job.jobId)?.length ?? 0) > 0 || executions[0]!.signal.aborted,
      90_000,
    );
    return 'second';
  };
  worker.durable('crash:fence', handler, options);
  const enqueue = producer.durable('crash:fence', handler, options);
  try {
    await worker.start();
    const handle = await enqueue();
    const result = await handle.result(120_000);

    expect(executions.map((e) => e.attempt)).toEqual([1, 1]);
    expect(
      result,
      "the result is the first execution's, whose claim the crash undid: its late ack passed the fence",
    ).toBe('second');
    // The second execution's outcome is the one that was written. result() may resolve from
    // the commit's notification before ackMany's answer reaches this process: wait for it.
    await waitFor(() => storage.answers.get(handle.jobId)?.at(-1) === true, {
      timeoutMs: 30_000,
      what: () =>
        `the second execution's ack written (answers: ${storage.answers.get(handle.jobId)})`,
    });
  } finally {
    await worker.stop({ timeoutMs: 1_000 });
    await producer.stop();
    await storage.close();
  }
}, 180_000);
