import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enqueueRunning, fenceOf, newJob, recordEvents, T0 } from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { Reseolio } from 'reseolio';
import type { StorageEvent } from 'reseolio/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { CrossProcessFeed } from '../src/cross-process-feed.ts';
import { createSqliteStorage } from '../src/index.ts';
import { ORIGIN } from '../src/origin.ts';
import { buildPackage, exited, lineFrom, startFixture } from './child-process.ts';
import { useCleanups } from './cleanups.ts';

/** Node's longest timer: an engine or feed with this interval never polls within a test. */
const NEVER = 2 ** 31 - 1;

const { cleanups, tempFile } = useCleanups();

/** An engine on `filename` that polls neither for work nor for results. */
function engineOn(filename: string, workerConcurrency: number) {
  const storage = createSqliteStorage({ filename, crossProcessPollMs: NEVER });
  const engine = new Reseolio({ storage, workerConcurrency, pollIntervalMs: NEVER });
  cleanups.push(
    () => storage.close(),
    () => engine.stop({ timeoutMs: 1_000 }),
  );
  return engine;
}

describe('wake-ups across processes on one file', () => {
  beforeAll(buildPackage, 120_000);

  it('a result() waiting in another process wakes on the commit that finishes the job', async () => {
    const filename = tempFile();
    const engine = engineOn(filename, 1);
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const addOne = engine.durable('remote:add-one', async (n: number) => {
      await gate;
      return n + 1;
    });
    await engine.start();
    const handle = await addOne(41);

    const waiter = startFixture('result-waiter.mjs', [filename, handle.jobId], (c) =>
      cleanups.push(c),
    );
    const result = lineFrom(waiter, (line) => line.startsWith('result '));
    // Its result() read the job once and found it running: from now on only a push wakes it.
    await lineFrom(waiter, (line) => line === 'waiting');
    finish();
    expect(await handle.result()).toBe(42);
    expect(JSON.parse((await result).slice('result '.length))).toBe(42);
    expect(await exited(waiter)).toBe(0);
  });

  it('a worker in another process wakes for an enqueue here, and this result() for its ack', async () => {
    const filename = tempFile();
    const engine = engineOn(filename, 0);
    const addOne = engine.durable('remote:add-one', async (n: number) => n + 1);
    await engine.start();
    const worker = startFixture('worker.mjs', [filename], (c) => cleanups.push(c));
    await lineFrom(worker, (line) => line === 'ready');

    const handles = [];
    for (let n = 0; n < 5; n++) handles.push(await addOne(n));
    expect(await Promise.all(handles.map((handle) => handle.result()))).toEqual([1, 2, 3, 4, 5]);
    worker.stdin?.end();
    expect(await exited(worker)).toBe(0);
  });
});

describe('signals across processes on one file', () => {
  beforeAll(buildPackage, 120_000);

  it('signals sent from another process wake exactly their jobs, announced here', async () => {
    const filename = tempFile();
    // The sender does not listen, so this feed does not watch the file: it finds the sender's
    // rows in the outbox by looking every 20 ms.
    const storage = createSqliteStorage({ filename, crossProcessPollMs: 20 });
    cleanups.push(() => storage.close());
    await storage.init();
    // Ten jobs waiting for `go`, one name each, and two waiting for another topic.
    const waiting = [];
    for (let i = 0; i < 12; i++) {
      const job = await enqueueRunning(storage, { name: `remote:wait-${i}` });
      const topic = i < 10 ? 'go' : 'other';
      await storage.ack({
        ...fenceOf(job),
        kind: 'suspend',
        attempt: 0,
        runAt: T0 + 3_600_000,
        waitingFor: `{"signal":"${topic}"}`,
        wake: { kind: 'signal', topic },
        now: T0 + 1,
      });
      waiting.push(job);
    }
    const log = await recordEvents(storage);
    // Every other `go` job, and both `other` ones (a signal of another topic wakes nothing).
    const signalled = waiting.filter((_, i) => i % 2 === 0 || i >= 10);
    const sender = startFixture(
      'signal-sender.mjs',
      [filename, 'go', String(T0 + 5), ...signalled.map((job) => job.id)],
      (c) => cleanups.push(c),
    );
    const report = JSON.parse(await lineFrom(sender, (line) => line.startsWith('{'))) as {
      results: unknown[];
    };
    expect(await exited(sender)).toBe(0);
    expect(report.results).toEqual(signalled.map((_, i) => ({ status: 'stored', woke: i < 5 })));
    const woken = signalled.slice(0, 5);
    // The other process's commits reach this process's listeners (through the outbox).
    for (const job of woken) await log.waitFor({ type: 'ready', name: job.name, runAt: T0 + 5 });
    await log.unsubscribe();
    for (const job of waiting) {
      const expected = woken.includes(job)
        ? { status: 'pending', runAt: T0 + 5, waitingFor: null }
        : { status: 'waiting', runAt: T0 + 3_600_000 };
      expect(await storage.getJob(job.id)).toMatchObject(expected);
    }
    expect(log.events.filter((event) => event.type === 'ready')).toHaveLength(5);
  });
});

describe('the feed of other processes’ events', () => {
  /**
   * A feed on `filename` that watches another, empty folder, as if every notification were
   * missed: it finds other processes' events only by looking every 10 ms.
   */
  async function pollingFeed(filename: string) {
    const storage = createSqliteStorage({ filename });
    cleanups.push(() => storage.close());
    await storage.init();
    const db = new Database(filename);
    const events: StorageEvent[] = [];
    const arrived: (() => void)[] = [];
    const elsewhere = mkdtempSync(join(tmpdir(), 'reseolio-sqlite-elsewhere-'));
    cleanups.push(() => rmSync(elsewhere, { recursive: true, force: true }));
    const feed = new CrossProcessFeed({
      db,
      path: join(elsewhere, 'jobs.db'),
      read: (attempt) => attempt(),
      write: (attempt) => attempt(),
      deliver: (delivered) => {
        events.push(...delivered);
        for (const resolve of arrived.splice(0)) resolve();
      },
      fallbackMs: 10,
      outbox: { record() {}, onOthersListening: undefined },
    });
    cleanups.push(() => {
      feed.close();
      db.close();
    });
    await feed.started;
    return {
      events,
      /** Resolves once `count` events have been delivered in all. */
      async received(count: number): Promise<void> {
        while (events.length < count) await new Promise<void>((r) => arrived.push(r));
      },
    };
  }

  /** Writes outbox rows as another process (another origin) would. */
  function otherProcess(filename: string) {
    const db = new Database(filename);
    cleanups.push(() => void db.close());
    const insert = db.prepare('INSERT INTO reseolio_events (origin, events) VALUES (?, ?)');
    return {
      db,
      announce: (events: StorageEvent[], origin = ORIGIN + 1) =>
        insert.run(origin, JSON.stringify(events)),
    };
  }

  it('delivers other origins’ rows in commit order by looking, without a notification, and skips its own', async () => {
    const filename = tempFile();
    const migrated = createSqliteStorage({ filename });
    await migrated.init();
    await migrated.close();
    // Committed before the feed started: not delivered.
    otherProcess(filename).announce([{ type: 'ready', name: 'old', runAt: 1 }]);
    const feed = await pollingFeed(filename);
    const other = otherProcess(filename);
    other.announce([{ type: 'ready', name: 'a', runAt: 2 }]);
    other.announce([{ type: 'ready', name: 'mine', runAt: 3 }], ORIGIN);
    other.announce([
      { type: 'finished', jobId: 'j1', status: 'success' },
      { type: 'finished', jobId: 'j2', status: 'cancelled' },
    ]);
    await feed.received(3);
    expect(feed.events).toEqual([
      { type: 'ready', name: 'a', runAt: 2 },
      { type: 'finished', jobId: 'j1', status: 'success' },
      { type: 'finished', jobId: 'j2', status: 'cancelled' },
    ]);
  });

  it('asks for a resync when rows it had not read were pruned', async () => {
    const filename = tempFile();
    const feed = await pollingFeed(filename);
    const other = otherProcess(filename);
    // As for a process paused while more than KEEP_ROWS rows came after its cursor.
    other.db.transaction(() => {
      other.announce([{ type: 'ready', name: 'pruned', runAt: 1 }]);
      other.announce([{ type: 'ready', name: 'kept', runAt: 1 }]);
      other.db.prepare('DELETE FROM reseolio_events WHERE seq <= 1').run();
    })();
    await feed.received(2);
    expect(feed.events).toEqual([{ type: 'resync' }, { type: 'ready', name: 'kept', runAt: 1 }]);
  });

  it('keeps no process alive: its timers and watcher are unref’d, and close ends them', async () => {
    const filename = tempFile();
    const storage = createSqliteStorage({ filename });
    cleanups.push(() => storage.close());
    await storage.init();
    const active = () =>
      process
        .getActiveResourcesInfo()
        .filter((resource) => resource === 'Timeout' || resource === 'FSEventWrap').length;
    const before = active();
    const unsubscribe = await storage.subscribe(() => {});
    const writer = createSqliteStorage({ filename });
    cleanups.push(() => writer.close());
    await writer.init();
    await writer.enqueue(newJob());
    expect(active()).toEqual(before);
    await unsubscribe();
  });
});

describe('the outbox', () => {
  it('is written only while a listener of another origin is registered, and a feed registers while it runs', async () => {
    const filename = tempFile();
    const storage = createSqliteStorage({ filename });
    cleanups.push(() => storage.close());
    await storage.init();
    const db = new Database(filename);
    cleanups.push(() => void db.close());
    const rows = () => db.prepare('SELECT count(*) FROM reseolio_events').pluck().get();
    const registered = () =>
      db.prepare('SELECT origin FROM reseolio_listeners ORDER BY origin').pluck().all();
    const register = (origin: number, expiresAt: number) =>
      db
        .prepare('INSERT INTO reseolio_listeners (id, origin, expires_at) VALUES (?, ?, ?)')
        .run(origin, origin, expiresAt);

    // Alone, or heard only by this process's own listeners: no rows.
    const unsubscribe = await storage.subscribe(() => {});
    expect(registered()).toEqual([ORIGIN]);
    await storage.enqueue(newJob());
    register(ORIGIN + 1, Date.now() - 1);
    await storage.enqueue(newJob());
    expect(rows()).toBe(0);

    // Another origin listens: every announcing write adds its row, in its transaction.
    register(ORIGIN + 2, Date.now() + 60_000);
    await storage.enqueue(newJob());
    await storage.enqueueMany([newJob(), newJob()]);
    expect(rows()).toBe(2);
    await unsubscribe();
    expect(registered()).toEqual([ORIGIN + 1, ORIGIN + 2]);
  });
});
