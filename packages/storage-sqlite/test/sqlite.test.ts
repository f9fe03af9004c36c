import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  claimExactly,
  fenceOf,
  LEASE_MS,
  newJob,
  pendingRecord,
  recordEvents,
  T0,
} from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { ReseolioError } from 'reseolio';
import type { FlowRule, NewJob } from 'reseolio/storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStorage, MIGRATIONS_TABLE, type SqliteStorage } from '../src/index.ts';
import { migrate } from '../src/migrate.ts';
import { jobs as jobsTable } from '../src/schema.ts';
import { prepareStatements } from '../src/statements.ts';
import { buildPackage, exited, lineFrom, startFixture } from './child-process.ts';
import { useCleanups } from './cleanups.ts';
import { scheduleDeclaration } from './schedule-declaration.ts';

const { cleanups, tempFile } = useCleanups();

async function open(filename: string): Promise<SqliteStorage> {
  const storage = createSqliteStorage({ filename });
  cleanups.push(() => storage.close());
  await storage.init();
  return storage;
}

/** The migrations the package ships (drizzle-kit's journal), in order. */
const JOURNAL = (
  JSON.parse(readFileSync(new URL('../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries;

/** How many migrations the package ships: each applied exactly once. */
const SHIPPED_MIGRATIONS = JOURNAL.length;

/**
 * A database as a release before `migration` left it: the migrations before it, applied and
 * recorded as src/migrate.ts applies them.
 */
function databaseBefore(filename: string, migration: string): Database.Database {
  const migrations = readMigrationFiles({
    migrationsFolder: fileURLToPath(new URL('../drizzle', import.meta.url)),
  });
  const before = JOURNAL.findIndex((entry) => entry.tag === migration);
  expect(before).toBeGreaterThan(0);
  const db = new Database(filename);
  db.exec(
    `CREATE TABLE "${MIGRATIONS_TABLE}" (id INTEGER PRIMARY KEY, hash TEXT NOT NULL, created_at NUMERIC)`,
  );
  const record = db.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES (?, ?)`);
  for (const applied of migrations.slice(0, before)) {
    for (const statement of applied.sql) if (statement.trim() !== '') db.exec(statement);
    record.run(applied.hash, applied.folderMillis);
  }
  return db;
}

/** Inserts `job` pending as an older release did: before 0004, without `schedule_id`. */
function insertPending(
  db: Database.Database,
  job: NewJob,
  { withScheduleId }: { withScheduleId: boolean },
): void {
  const [column, value] = withScheduleId ? [', schedule_id', ', @scheduleId'] : ['', ''];
  db.prepare(
    `INSERT INTO reseolio_jobs (id, name, status, args, policy, attempt, max_attempts,
      idempotency_key, parent_id${column}, created_at, run_at)
     VALUES (@id, @name, 'pending', @args, @policy, 0, @maxAttempts, @idempotencyKey,
      @parentId${value}, @createdAt, @runAt)`,
  ).run(job);
}

describe('SqliteStorage', () => {
  it('records its migrations in __reseolio_migrations, not the host app’s drizzle table', async () => {
    const filename = tempFile();
    await open(filename);
    const db = new Database(filename, { readonly: true });
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .pluck()
      .all();
    const applied = db.prepare(`SELECT hash, created_at FROM "${MIGRATIONS_TABLE}"`).all();
    db.close();
    expect(MIGRATIONS_TABLE).toBe('__reseolio_migrations');
    expect(tables).toEqual([
      '__reseolio_migrations',
      'reseolio_attempts',
      'reseolio_events',
      'reseolio_jobs',
      'reseolio_listeners',
      'reseolio_rate_limit_starts',
      'reseolio_schedules',
      'reseolio_signals',
      'reseolio_steps',
    ]);
    expect(applied).toHaveLength(SHIPPED_MIGRATIONS);
  });

  it('plans claims and sweeps on the partial indexes, with no statistics gathered', async () => {
    const filename = tempFile();
    await open(filename);
    const db = new Database(filename);
    cleanups.push(() => void db.close());
    const statements = prepareStatements(db);
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(
          Object.fromEntries(
            Object.entries({
              names: '["a"]',
              ids: '["x"]',
              name: 'a',
              key: 'k',
              concurrencyKey: 'c',
              rateLimitKey: 'r',
              now: T0,
              since: T0 - 1_000,
              below: null,
              level: null,
              limit: 10,
              ownerId: 'w',
              leaseToken: 't',
              leaseExpiresAt: T0,
            }).filter(([param]) => sql.includes(`@${param}`)),
          ),
        )
        .map((row) => (row as { detail: string }).detail)
        .join(' | ');
    // Without the pin, SQLite picked the (name, key) index: every job of that name, sorted.
    // A claim reads one priority level at a time: that level's due jobs, one range of the claim
    // index (pending and waiting jobs) read in run_at order, so that no job not yet due is read
    // whatever its priority; the highest level, and the next one below, each by a seek (a
    // SCAN with LIMIT 1 from the index's end: one entry).
    expect(plan(statements.nextLevel.source)).toMatch(
      /^SEARCH reseolio_jobs USING (COVERING )?INDEX reseolio_jobs_claim_idx \(priority<\?\) \| SCALAR SUBQUERY 1 \| SCAN reseolio_jobs USING (COVERING )?INDEX reseolio_jobs_claim_idx$/,
    );
    for (const statement of [statements.claimLevel, statements.dueAtLevel]) {
      expect(plan(statement.source)).toMatch(
        /SEARCH reseolio_jobs USING (COVERING )?INDEX reseolio_jobs_claim_idx \(priority=\? AND run_at<\?\)/,
      );
      // The highest level, when none is given: the last entry of the claim index.
      expect(plan(statement.source)).toMatch(
        /SCALAR SUBQUERY \d+ \| SCAN reseolio_jobs USING (COVERING )?INDEX reseolio_jobs_claim_idx( |$)/,
      );
      expect(plan(statement.source)).not.toMatch(/TEMP B-TREE/);
    }
    // The flow claim: the key pairs of a ruled name found by skip scans (one seek per key),
    // each pair's levels and due jobs read as in the plain claim, all on the flow index.
    const index = 'INDEX reseolio_jobs_flow_idx';
    const { pairs } = statements;
    for (const [keys, prefix] of [
      [pairs.concurrencyKeys, 'name=\\? AND concurrency_key'],
      [pairs.rateLimitKeys, 'name=\\? AND concurrency_key=\\? AND rate_limit_key'],
    ] as const) {
      const skipScan = plan(keys.source);
      expect(skipScan).not.toMatch(/SCAN reseolio_jobs|TEMP B-TREE/);
      expect(skipScan.match(new RegExp(`USING ${index} \\(${prefix}>\\?\\)`, 'g'))).toHaveLength(2);
      expect(skipScan).toMatch(new RegExp(`USING ${index} \\(${prefix}=\\?\\)`));
    }
    expect(plan(pairs.firstRateLimitKey.source)).toMatch(
      new RegExp(
        `^SEARCH reseolio_jobs USING ${index} \\(name=\\? AND concurrency_key=\\? AND rate_limit_key>\\?\\)$`,
      ),
    );
    const pair = 'name=\\? AND concurrency_key=\\? AND rate_limit_key=\\?';
    expect(plan(pairs.nextLevel.source)).toMatch(
      new RegExp(
        `^SEARCH reseolio_jobs USING ${index} \\(${pair} AND priority<\\?\\) \\| SCALAR SUBQUERY 1 \\| SEARCH reseolio_jobs USING ${index} \\(${pair}\\)$`,
      ),
    );
    // The due jobs of a level (or of the highest level, found by a seek in the same statement).
    expect(plan(pairs.dueAtLevel.source)).toMatch(
      new RegExp(
        `^SEARCH reseolio_jobs USING ${index} \\(${pair} AND priority=\\? AND run_at<\\?\\) \\| SCALAR SUBQUERY 1 \\| SEARCH reseolio_jobs USING ${index} \\(${pair}\\)$`,
      ),
    );
    // Live leases per group: a range of the running-lease index; a group's recent starts: one
    // range of the starts index.
    expect(plan(statements.runningGroups.source)).toMatch(
      /SEARCH reseolio_jobs USING INDEX reseolio_jobs_running_lease_idx \(lease_expires_at>\?\)/,
    );
    expect(plan(statements.rateStarts.source)).toMatch(
      /^SEARCH reseolio_rate_limit_starts USING COVERING INDEX reseolio_rate_limit_starts_idx \(name=\? AND key=\? AND started_at>\?\)$/,
    );
    expect(plan(statements.leaseIds.source)).toMatch(
      /INDEX sqlite_autoindex_reseolio_jobs_1 \(id=\?\)/,
    );
    expect(plan(statements.listExpiredLeases.source)).toMatch(
      /USING (COVERING )?INDEX reseolio_jobs_running_lease_idx/,
    );
    expect(plan(statements.listExpiredLeases.source)).not.toMatch(/TEMP B-TREE/);
    // Due schedules: one range of the partial due index per name (the few due rows are sorted).
    expect(plan(statements.listDueSchedules.source)).toMatch(
      /USING (COVERING )?INDEX reseolio_schedules_due_idx/,
    );
    expect(
      db
        .prepare(`EXPLAIN QUERY PLAN ${statements.nextScheduleRunAt.source}`)
        .all('["a"]')
        .map((row) => (row as { detail: string }).detail)
        .join(' | '),
    ).toMatch(/USING (COVERING )?INDEX reseolio_schedules_due_idx/);
    // A topic's oldest unconsumed signal, and a suspension's check for one: the partial
    // unconsumed index, in id order.
    const signalPlan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ id: 'j', topic: 't', now: T0 })
        .map((row) => (row as { detail: string }).detail)
        .join(' | ');
    for (const statement of [statements.consumeSignal, statements.hasSignal]) {
      expect(signalPlan(statement.source)).toMatch(
        /USING (COVERING )?INDEX reseolio_signals_unconsumed_idx \(job_id=\? AND topic=\?\)/,
      );
      expect(signalPlan(statement.source)).not.toMatch(/TEMP B-TREE/);
    }
  });

  it('lists a schedule’s runs newest first on the schedule index, without sorting', async () => {
    const storage = await open(tempFile());
    const jobs = [T0, T0 + 1, T0 + 2].map((createdAt) =>
      newJob({ scheduleId: 's:runs', createdAt }),
    );
    await storage.enqueueMany([...jobs, newJob()]);
    const listed = await storage.listJobs({ scheduleId: 's:runs' });
    expect(listed.map((job) => job.id)).toEqual(jobs.map((job) => job.id).reverse());
    // The query listJobs builds, planned on a migrated database with no statistics.
    const db = new Database(':memory:');
    cleanups.push(() => void db.close());
    migrate(db);
    const query = drizzle({ client: db })
      .select()
      .from(jobsTable)
      .where(eq(jobsTable.scheduleId, 's:runs'))
      .orderBy(desc(jobsTable.id))
      .limit(100)
      .offset(0)
      .toSQL();
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .all(...query.params)
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan).toMatch(/USING INDEX reseolio_jobs_schedule_idx/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });

  it('upgrades a database made before schedules: its jobs get a null scheduleId', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0004_schedules');
    const job = newJob({ idempotencyKey: 'before-schedules' });
    insertPending(db, job, { withScheduleId: false });
    db.close();

    const storage = await open(filename);
    expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    expect(await storage.listJobs({ name: job.name })).toEqual([pendingRecord(job)]);
    expect(await storage.listJobs({ scheduleId: 's:any' })).toEqual([]);
    // The old job still deduplicates, and schedules work on the upgraded file.
    const again = await storage.enqueue({
      ...newJob({ name: job.name }),
      idempotencyKey: job.idempotencyKey,
    });
    expect(again).toEqual({ job: pendingRecord(job), deduplicated: true });
    const { created } = await storage.upsertSchedule(
      scheduleDeclaration({ id: 's:upgraded', name: job.name }),
    );
    expect(created).toBe(true);
    const check = new Database(filename, { readonly: true });
    cleanups.push(() => void check.close());
    expect(check.prepare(`SELECT count(*) FROM "${MIGRATIONS_TABLE}"`).pluck().get()).toBe(
      SHIPPED_MIGRATIONS,
    );
  });

  it('upgrades a database made before workflows: its jobs still claim, and can wait after', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0005_workflows');
    const job = newJob({ idempotencyKey: 'before-workflows' });
    insertPending(db, job, { withScheduleId: true });
    db.close();

    const storage = await open(filename);
    expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
    expect(await storage.listJobs({ name: job.name })).toEqual([pendingRecord(job)]);
    const claim = (now: number) =>
      storage.claim({
        names: [job.name],
        ownerId: 'w',
        leaseToken: `t${now}`,
        limit: 10,
        now,
        leaseExpiresAt: now + 30_000,
      });
    const [claimed] = await claim(job.runAt);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', waitingFor: null });
    // Waits for a signal on the upgraded file, and a signal wakes it.
    const fence = { id: job.id, leaseToken: claimed!.leaseToken! };
    await storage.recordStep({ ...fence, key: 'step:a#0', value: '1', now: T0 + 1 });
    expect(
      await storage.ack({
        ...fence,
        kind: 'suspend',
        attempt: 0,
        runAt: T0 + 60_000,
        waitingFor: '{"kind":"signal"}',
        wake: { kind: 'signal', topic: 'go' },
        now: T0 + 1,
      }),
    ).toBe(true);
    expect(await storage.getJob(job.id)).toMatchObject({
      status: 'waiting',
      waitingFor: '{"kind":"signal"}',
    });
    expect(await claim(T0 + 2)).toEqual([]);
    const signal = { id: job.id, jobId: job.id, topic: 'go', payload: '1', idempotencyKey: null };
    expect(await storage.signal({ ...signal, now: T0 + 3 })).toEqual({
      status: 'stored',
      woke: true,
    });
    expect(await claim(T0 + 3)).toMatchObject([{ id: job.id, attempt: 1 }]);
    expect(await storage.listSteps(job.id)).toEqual([
      { key: 'step:a#0', value: '1', createdAt: T0 + 1 },
    ]);
  });

  it('upgrades a database made before flow control: its jobs claim at priority 0, in the null groups', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0006_flow_control');
    const old = newJob({ idempotencyKey: 'before-flow', runAt: T0 - 10 });
    insertPending(db, old, { withScheduleId: true });
    db.close();

    const storage = await open(filename);
    expect(await storage.getJob(old.id)).toEqual(pendingRecord(old));
    expect(await storage.getJob(old.id)).toMatchObject({
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
    });
    // A new job of the same name at a higher priority goes first; the old one still claims.
    const urgent = newJob({
      name: old.name,
      priority: 1,
      concurrencyKey: 'new',
      rateLimitKey: 'new',
      runAt: T0,
    });
    await storage.enqueue(urgent);
    const claim = (flow: FlowRule[]) =>
      storage.claim({
        names: [old.name],
        flow,
        ownerId: 'w',
        leaseToken: `t${flow.length}`,
        limit: 1,
        now: T0,
        leaseExpiresAt: T0 + 30_000,
      });
    expect(await claim([])).toMatchObject([{ id: urgent.id, priority: 1 }]);
    // With a rule, the old job is in the null group of both keys (the new one runs in another).
    const [claimed] = await claim([
      { name: old.name, concurrency: 1, rateLimit: { limit: 5, periodMs: 1_000 } },
    ]);
    expect(claimed).toMatchObject({ id: old.id, status: 'running', priority: 0, attempt: 1 });
  });

  it('returns a stored progress from every read: getJob, listJobs, expired leases, the claim after a retry', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const job = newJob();
    await storage.enqueue(job);
    const running = await claimExactly(storage, job);
    // The column as setProgress writes it, from another connection.
    const db = new Database(filename);
    db.prepare('UPDATE reseolio_jobs SET progress = ? WHERE id = ?').run('{"done":3}', job.id);
    db.close();
    expect((await storage.getJob(job.id))?.progress).toBe('{"done":3}');
    expect((await storage.listJobs({ name: job.name })).map((j) => j.progress)).toEqual([
      '{"done":3}',
    ]);
    const expired = await storage.listExpiredLeases({ now: T0 + LEASE_MS + 1, limit: 10 });
    expect(expired.map((j) => [j.id, j.progress])).toEqual([[job.id, '{"done":3}']]);
    await storage.ack({ ...fenceOf(running), kind: 'retry', error: '{}', runAt: T0 + 1, now: T0 });
    expect((await claimExactly(storage, job, { now: T0 + 1 })).progress).toBe('{"done":3}');
  });

  it('upgrades a database made before observability: its jobs read traceContext and progress null', async () => {
    const filename = tempFile();
    const db = databaseBefore(filename, '0007_observability');
    const old = newJob({ idempotencyKey: 'before-observability', runAt: T0 - 10 });
    insertPending(db, old, { withScheduleId: true });
    db.close();

    const storage = await open(filename);
    expect(old.traceContext).toBeNull();
    expect(await storage.getJob(old.id)).toEqual(pendingRecord(old));
    expect(await storage.listJobs({ name: old.name })).toEqual([pendingRecord(old)]);
    const claimed = await claimExactly(storage, old);
    expect(claimed).toMatchObject({ traceContext: null, progress: null });
    // New jobs on the upgraded database store their context.
    const fresh = newJob({ name: old.name, traceContext: '{"traceparent":"after-upgrade"}' });
    await storage.enqueue(fresh);
    expect(await storage.getJob(fresh.id)).toEqual(pendingRecord(fresh));
  });

  it('reads the claim index level by level: higher levels not yet due neither go first nor hold back lower ones', async () => {
    const storage = await open(tempFile());
    const name = 'levels';
    const later = Array.from({ length: 50 }, (_, i) =>
      newJob({ name, priority: 10 + (i % 3), runAt: T0 + 3_600_000 + i }),
    );
    const five = [T0 - 1, T0].map((runAt) => newJob({ name, priority: 5, runAt }));
    const zero = [T0 - 100, T0 - 50].map((runAt) => newJob({ name, runAt }));
    const below = newJob({ name, priority: -3, runAt: T0 - 1_000 });
    await storage.enqueueMany([...later, ...zero, below, ...five]);
    const claim = (limit: number, now = T0) =>
      storage.claim({
        names: [name],
        ownerId: 'w',
        leaseToken: `t${limit}`,
        limit,
        now,
        leaseExpiresAt: now + 30_000,
      });
    // One claim over three levels, in claim order.
    expect((await claim(3)).map((job) => job.id)).toEqual([five[0]!.id, five[1]!.id, zero[0]!.id]);
    expect((await claim(10)).map((job) => job.id)).toEqual([zero[1]!.id, below.id]);
    expect(await claim(10)).toEqual([]);
    // Once due, the higher levels go first again, highest first.
    const due = await claim(4, T0 + 3_600_049);
    expect(due.map((job) => job.priority)).toEqual([12, 12, 12, 12]);
  });

  it('reads each key pair of a ruled name level by level: jobs not yet due at a higher priority hide no due ones', async () => {
    const storage = await open(tempFile());
    const name = 'flow-levels';
    const later = Array.from({ length: 20 }, (_, i) =>
      newJob({ name, concurrencyKey: 'k', priority: 9, runAt: T0 + 3_600_000 + i }),
    );
    const due = [3, 1, 1].map((priority, i) =>
      newJob({ name, concurrencyKey: 'k', priority, runAt: T0 - 10 + i }),
    );
    const other = newJob({ name, concurrencyKey: 'other', priority: 2, runAt: T0 });
    await storage.enqueueMany([...later, ...due, other]);
    const claim = (limit: number, now = T0) =>
      storage.claim({
        names: [name],
        flow: [{ name, concurrency: 2 }],
        ownerId: 'w',
        leaseToken: `t${limit}`,
        limit,
        now,
        leaseExpiresAt: now + 30_000,
      });
    // By priority (rounds order jobs of one priority); k's second 1 waits for a slot of k.
    expect((await claim(10)).map((job) => job.id)).toEqual([due[0]!.id, other.id, due[1]!.id]);
    expect(await claim(10)).toEqual([]);
  });

  it('records one start per started job of a rate-limited name and forgets the group’s starts no window counts', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const name = 'rated';
    await storage.enqueueMany([
      ...Array.from({ length: 4 }, (_, i) =>
        newJob({ name, rateLimitKey: 'k', runAt: T0 - 10 + i }),
      ),
      newJob({ name, runAt: T0 - 20 }),
    ]);
    const rules: FlowRule[] = [{ name, rateLimit: { limit: 2, periodMs: 1_000 } }];
    const claim = (now: number) =>
      storage.claim({
        names: [name],
        flow: rules,
        ownerId: 'w',
        leaseToken: `t${now}`,
        limit: 10,
        now,
        leaseExpiresAt: now + 30_000,
      });
    const db = new Database(filename, { readonly: true });
    cleanups.push(() => void db.close());
    const starts = () =>
      db
        .prepare('SELECT key, started_at AS at FROM reseolio_rate_limit_starts ORDER BY key, at')
        .all();
    expect(await claim(T0)).toHaveLength(3);
    // The null group is key ''.
    expect(starts()).toEqual([
      { key: '', at: T0 },
      { key: 'k', at: T0 },
      { key: 'k', at: T0 },
    ]);
    expect(await claim(T0 + 999)).toEqual([]);
    expect(await claim(T0 + 1_000)).toHaveLength(2);
    expect(starts()).toEqual([
      { key: '', at: T0 },
      { key: 'k', at: T0 + 1_000 },
      { key: 'k', at: T0 + 1_000 },
    ]);
  });

  it('sets WAL, busy_timeout and synchronous=NORMAL on the connection', async () => {
    const database = new Database(tempFile());
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database, busyTimeoutMs: 1234 });
    await storage.init();
    expect(database.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(database.pragma('busy_timeout', { simple: true })).toBe(1234);
    // 1 = NORMAL
    expect(database.pragma('synchronous', { simple: true })).toBe(1);
    await storage.close();
  });

  it('leaves a borrowed database open on close', async () => {
    const database = new Database(tempFile());
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database });
    await storage.init();
    await storage.enqueue(newJob());
    await storage.close();
    expect(database.open).toBe(true);
    expect(database.prepare('SELECT count(*) FROM reseolio_jobs').pluck().get()).toBe(1);
  });

  it('throws a ReseolioError on every call after close, and close twice is harmless', async () => {
    const storage = await open(tempFile());
    await storage.close();
    await storage.close();
    await expect(storage.getJob('x')).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_STATE',
      message: expect.stringMatching(/closed/),
    });
    await expect(storage.enqueue(newJob())).rejects.toBeInstanceOf(ReseolioError);
    await expect(storage.init()).rejects.toBeInstanceOf(ReseolioError);
  });

  it('throws a ReseolioError when used before init', async () => {
    const storage = createSqliteStorage({ filename: tempFile() });
    cleanups.push(() => storage.close());
    await expect(storage.getJob('x')).rejects.toMatchObject({ code: 'RESEOLIO_INVALID_STATE' });
  });

  it('rejects options without a filename or database, and a negative busy timeout', () => {
    expect(() => createSqliteStorage({})).toThrow(/filename/);
    expect(() => createSqliteStorage({ filename: 'x.db', busyTimeoutMs: -1 })).toThrow(
      /busyTimeoutMs/,
    );
  });

  it('refuses a busy timeout that SQLite would wrap to 0, and takes undefined as left out', async () => {
    // PRAGMA busy_timeout is a C int: 2147483648 would read back as 0, no waiting at all.
    expect(() => createSqliteStorage({ filename: 'x.db', busyTimeoutMs: 2 ** 31 })).toThrow(
      'busyTimeoutMs must be an integer from 0 to 2147483647 milliseconds, got 2147483648.',
    );
    const database = new Database(':memory:');
    cleanups.push(() => void database.close());
    const storage = createSqliteStorage({ database, busyTimeoutMs: 2 ** 31 - 1 });
    cleanups.push(() => storage.close());
    await storage.init();
    expect(database.pragma('busy_timeout', { simple: true })).toBe(2 ** 31 - 1);
    const defaults = createSqliteStorage({
      filename: ':memory:',
      busyTimeoutMs: undefined,
      database: undefined,
    });
    cleanups.push(() => defaults.close());
    await defaults.init();
  });

  it('reports multiProcess and crossProcessNotify for files, neither for :memory:', async () => {
    const memory = createSqliteStorage({ filename: ':memory:' });
    cleanups.push(() => memory.close());
    await memory.init();
    expect(memory.capabilities).toEqual({
      crossProcessNotify: false,
      multiProcess: false,
      leasedEnqueue: true,
      flowControl: true,
    });
    const file = await open(tempFile());
    expect(file.capabilities).toEqual({
      crossProcessNotify: true,
      multiProcess: true,
      leasedEnqueue: true,
      flowControl: true,
    });
  });

  it('two instances in one process on the same file hear each other, however the path is spelled', async () => {
    const filename = tempFile();
    const absolute = await open(filename);
    const relativePath = await open(relative(process.cwd(), filename));
    const log = await recordEvents(absolute);
    const job = newJob();
    await relativePath.enqueue(job);
    await log.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
    await log.unsubscribe();
  });

  it('two :memory: databases do not hear each other', async () => {
    const a = createSqliteStorage({ filename: ':memory:' });
    const b = createSqliteStorage({ filename: ':memory:' });
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    await Promise.all([a.init(), b.init()]);
    const heardByA = await recordEvents(a);
    const heardByB = await recordEvents(b);
    const job = newJob();
    await b.enqueue(job);
    await heardByB.waitFor({ type: 'ready', name: job.name, runAt: job.runAt });
    expect(heardByA.events).toEqual([]);
  });

  it('refuses to join a caller transaction', async () => {
    const storage = await open(tempFile());
    await expect(storage.enqueue(newJob(), { transaction: {} })).rejects.toMatchObject({
      code: 'RESEOLIO_STORAGE_CONFIG',
    });
  });
});

describe('several processes on one file', () => {
  // The workers load the built package, as an installed app would.
  beforeAll(buildPackage, 120_000);

  it('three processes running init at once on a new file all succeed', async () => {
    const filename = tempFile();
    const children = [0, 1, 2].map(() => startWorker([filename, 'init']));
    const codes = await Promise.all(children.map((child) => exited(child)));
    expect(codes).toEqual([0, 0, 0]);
    const db = new Database(filename, { readonly: true });
    expect(db.prepare(`SELECT count(*) FROM "${MIGRATIONS_TABLE}"`).pluck().get()).toBe(
      SHIPPED_MIGRATIONS,
    );
    db.close();
  });

  it('three processes claiming 1,200 jobs claim each exactly once and lose none', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const name = 'multi-process:claim';
    const jobs = Array.from({ length: 1200 }, (_, i) =>
      newJob({ name, createdAt: T0 + i, runAt: T0 }),
    );
    const ids = jobs.map((job) => job.id);
    await storage.enqueueMany(jobs);

    const workers = [0, 1, 2].map((i) => startWorker([filename, 'work', name, `process-${i}`]));
    await Promise.all(workers.map((worker) => lineFrom(worker, (line) => line === 'ready')));
    for (const worker of workers) worker.stdin?.write('go\n');
    const reports = await Promise.all(
      workers.map(async (worker) => {
        const line = await lineFrom(worker, (l) => l.startsWith('{'));
        expect(await exited(worker)).toBe(0);
        return JSON.parse(line) as { claimed: string[]; rejectedAcks: number };
      }),
    );

    const claimed = reports.flatMap((report) => report.claimed);
    expect(reports.map((report) => report.rejectedAcks)).toEqual([0, 0, 0]);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(ids.sort());
    // Several processes did part of the work, or there was no contention to test. (Not all
    // three: on a loaded machine one may be scheduled only after the others emptied the queue.)
    expect(reports.filter((report) => report.claimed.length > 0).length).toBeGreaterThanOrEqual(2);
    const done = [
      ...(await storage.listJobs({ name, status: 'success', limit: 1_000 })),
      ...(await storage.listJobs({ name, status: 'success', limit: 1_000, offset: 1_000 })),
    ];
    expect(done).toHaveLength(1200);
    expect(done.every((job) => job.attempt === 1)).toBe(true);
  }, 60_000);

  it('three processes claiming a concurrency-limited name at once never exceed a group’s limit', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const [name, limit, keys, perKey] = ['multi-process:flow', 2, ['a', 'b', 'c', 'd'], 150];
    const jobs = keys.flatMap((key) =>
      Array.from({ length: perKey }, (_, i) =>
        newJob({ name, concurrencyKey: key, createdAt: T0 + i, runAt: T0 + i }),
      ),
    );
    await storage.enqueueMany(jobs);
    // The audit, from the database itself: each time a job of the name starts running, the
    // live running jobs of its group (itself and every earlier lease of the same claim
    // included), counted inside the claiming transaction.
    const audit = new Database(filename);
    cleanups.push(() => void audit.close());
    audit.exec(`
      CREATE TABLE flow_audit (key TEXT, running INTEGER);
      CREATE TRIGGER flow_audit AFTER UPDATE OF status ON reseolio_jobs
      WHEN NEW.status = 'running' AND NEW.name = '${name}'
      BEGIN
        INSERT INTO flow_audit SELECT NEW.concurrency_key, count(*) FROM reseolio_jobs
        WHERE name = NEW.name AND concurrency_key IS NEW.concurrency_key
          AND status = 'running' AND lease_expires_at >= NEW.started_at;
      END;`);

    const workers = [0, 1, 2].map((i) =>
      startFixture('flow-claim-worker.mjs', [filename, name, String(limit), `process-${i}`], (c) =>
        cleanups.push(c),
      ),
    );
    await Promise.all(workers.map((worker) => lineFrom(worker, (line) => line === 'ready')));
    for (const worker of workers) worker.stdin?.write('go\n');
    const reports = await Promise.all(
      workers.map(async (worker) => {
        const line = await lineFrom(worker, (l) => l.startsWith('{'));
        expect(await exited(worker)).toBe(0);
        return JSON.parse(line) as { claimed: string[]; rejectedAcks: number };
      }),
    );

    const claimed = reports.flatMap((report) => report.claimed);
    expect(reports.map((report) => report.rejectedAcks)).toEqual([0, 0, 0]);
    expect(claimed.sort()).toEqual(jobs.map((job) => job.id).sort());
    const peaks = Object.fromEntries(
      audit
        .prepare('SELECT key, max(running) AS peak FROM flow_audit GROUP BY key ORDER BY key')
        .all()
        .map((row) => {
          const { key, peak } = row as { key: string; peak: number };
          return [key, peak];
        }),
    );
    // Every group reached its limit (the processes contended) and none went past it.
    expect(peaks).toEqual({ a: limit, b: limit, c: limit, d: limit });
    expect(audit.prepare('SELECT count(*) FROM flow_audit').pluck().get()).toBe(jobs.length);
    expect(reports.filter((report) => report.claimed.length > 0).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('three processes firing the same 200 ticks fire each exactly once', async () => {
    const filename = tempFile();
    const storage = await open(filename);
    const [id, name, step, ticks] = ['multi-process:schedule', 'multi-process:tick', 60_000, 200];
    await storage.upsertSchedule(scheduleDeclaration({ id, name }));
    const args = [filename, id, name, String(T0), String(ticks), String(step)];
    const firers = [0, 1, 2].map(() =>
      startFixture('schedule-firer.mjs', args, (cleanup) => cleanups.push(cleanup)),
    );
    await Promise.all(firers.map((firer) => lineFrom(firer, (line) => line === 'ready')));
    for (const firer of firers) firer.stdin?.write('go\n');
    const reports = await Promise.all(
      firers.map(async (firer) => {
        const line = await lineFrom(firer, (l) => l.startsWith('{'));
        expect(await exited(firer)).toBe(0);
        return JSON.parse(line) as { won: number[] };
      }),
    );

    const expected = Array.from({ length: ticks }, (_, i) => T0 + i * step);
    const won = reports.flatMap((report) => report.won);
    expect(won.sort((a, b) => a - b)).toEqual(expected);
    // The jobs carry no idempotency key: a tick claimed twice would have made two.
    const runs = await storage.listJobs({ scheduleId: id, limit: 1_000 });
    expect(runs.map((job) => job.runAt).sort((a, b) => a - b)).toEqual(expected);
    expect(await storage.getSchedule(id)).toMatchObject({
      nextRunAt: T0 + ticks * step,
      lastRunAt: T0 + (ticks - 1) * step,
    });
  }, 60_000);
});

function startWorker(args: string[]): ChildProcess {
  return startFixture('claim-worker.mjs', args, (cleanup) => cleanups.push(cleanup));
}
