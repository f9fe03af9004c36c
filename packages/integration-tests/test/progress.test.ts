/**
 * Progress across processes: a handler in a child process reports, and this process sees
 * every stored value through `job:progress` and `details().progress`, on a SQLite file (its
 * outbox) and on PostgreSQL (LISTEN/NOTIFY, the last value too large for a notification).
 */
import { type ProgressJob, reportProgress } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { startFixture } from './child-process.ts';
import { engineOn, PROCESS_BACKENDS, waitFor } from './helpers.ts';

const PAGES = 5;
const LAST = { done: PAGES, total: PAGES, log: 'x'.repeat(8_000) };

describe.each(PROCESS_BACKENDS)('progress on $backend', ({ fresh }) => {
  it('a handler in another process reports: job:progress events and details().progress here', async () => {
    const database = fresh();
    const worker = startFixture('progress-node.mjs', database.fixtureArgs);
    await worker.waitForLine(/^ready$/, 60_000);

    const watcher = engineOn(database.storage(), { workerConcurrency: 0 });
    const seen: [ProgressJob, unknown][] = [];
    watcher.on('job:progress', (job, progress) => seen.push([job, progress]));
    const render = watcher.durable('progress:render', async (_pages: number) => {
      await reportProgress(0);
      return 'never here: this engine runs no workers';
    });
    const handle = await render(PAGES);
    expect(await handle.result(60_000)).toBe(`rendered ${PAGES} pages in ${worker.child.pid}`);

    // Each report was awaited, so each was stored: the events come in order, the last one
    // (read from the job on PostgreSQL, where it did not fit the notification) included.
    await waitFor(() => seen.length === PAGES, {
      timeoutMs: 30_000,
      what: () => `${PAGES} progress events (got ${seen.length})`,
    });
    const job = { id: handle.jobId, name: 'progress:render' };
    expect(seen).toEqual([
      ...Array.from({ length: PAGES - 1 }, (_, i) => [job, { done: i + 1, total: PAGES }]),
      [job, LAST],
    ]);
    expect((await handle.details()).progress).toEqual(LAST);
  }, 120_000);
});
