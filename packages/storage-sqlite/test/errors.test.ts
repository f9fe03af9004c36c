import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newJob, T0 } from '@reseolio/storage-contract';
import Database from 'better-sqlite3';
import { StorageConfigError, StorageError } from 'reseolio';
import type { AckInput } from 'reseolio/storage';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStorage, type SqliteStorage, SqliteStorageError } from '../src/index.ts';
import { scheduleDeclaration } from './schedule-declaration.ts';

type SqliteError = InstanceType<typeof Database.SqliteError>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-sqlite-errors-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An open connection to `filename`, closed after the test. */
function connect(filename: string, options?: Database.Options): Database.Database {
  const db = new Database(filename, options);
  cleanups.push(() => void db.close());
  return db;
}

/** A storage closed after the test, before the connections it borrows. */
async function initialized(options: Parameters<typeof createSqliteStorage>[0]) {
  const storage = createSqliteStorage(options);
  cleanups.push(() => storage.close());
  await storage.init();
  return storage;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/** A storage error with the driver's `SqliteError` of `code` as its cause. */
function expectStorageError(error: unknown, operation: string, code: string | RegExp): void {
  expect(error).toBeInstanceOf(SqliteStorageError);
  expect(error).toBeInstanceOf(StorageError);
  const storageError = error as SqliteStorageError;
  expect(storageError.name).toBe('SqliteStorageError');
  expect(storageError.code).toBe('RESEOLIO_STORAGE');
  expect(storageError.operation).toBe(operation);
  expect(storageError.driverCode).toMatch(code);
  expect(storageError.cause).toBeInstanceOf(Database.SqliteError);
  expect((storageError.cause as SqliteError).code).toBe(storageError.driverCode);
  expect(storageError.message).toContain(`${operation} failed with ${storageError.driverCode}`);
}

/** A config error with the driver's `SqliteError` of `code` as its cause. */
function expectConfigError(error: unknown, code: string): void {
  expect(error).toBeInstanceOf(StorageConfigError);
  expect(error).not.toBeInstanceOf(StorageError);
  expect((error as StorageConfigError).code).toBe('RESEOLIO_STORAGE_CONFIG');
  expect((error as Error).cause).toBeInstanceOf(Database.SqliteError);
  expect(((error as Error).cause as SqliteError).code).toBe(code);
}

/** A job enqueued and claimed, with what it takes to ack it. */
async function claimedJob(storage: SqliteStorage) {
  const job = newJob();
  await storage.enqueue(job);
  const leaseToken = randomUUID();
  const [claimed] = await storage.claim({
    names: [job.name],
    ownerId: 'w',
    leaseToken,
    limit: 1,
    now: T0,
    leaseExpiresAt: T0 + 1_000,
  });
  expect(claimed?.id).toBe(job.id);
  return { job, leaseToken };
}

/** A schedule due at T0. */
async function declareSchedule(storage: SqliteStorage, overrides: { id?: string } = {}) {
  const declared = await storage.upsertSchedule(
    scheduleDeclaration({ id: 's:errors', ...overrides }),
  );
  return declared.schedule;
}

describe('a database that init cannot use is a StorageConfigError that says what to do', () => {
  it('SQLITE_NOTADB: a file that is not a database', async () => {
    const filename = join(tempDir(), 'notes.txt');
    writeFileSync(
      filename,
      'Meeting notes: these are not the jobs you are looking for.\n'.repeat(20),
    );
    const error = await rejection(createSqliteStorage({ filename }).init());
    expectConfigError(error, 'SQLITE_NOTADB');
    expect((error as Error).message).toMatch(/notes\.txt.*is not a SQLite database/s);
    expect((error as Error).message).toMatch(/give `filename` the path of a Reseolio database/);
  });

  it('SQLITE_CANTOPEN: a path that is a folder', async () => {
    const folder = join(tempDir(), 'jobs.db');
    mkdirSync(folder);
    const error = await rejection(createSqliteStorage({ filename: folder }).init());
    expectConfigError(error, 'SQLITE_CANTOPEN');
    expect((error as Error).message).toMatch(/must name a file, not a folder/);
  });

  it('a folder that does not exist', async () => {
    const filename = join(tempDir(), 'missing', 'jobs.db');
    const error = await rejection(createSqliteStorage({ filename }).init());
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toMatch(/check that its folder exists/);
  });

  it('SQLITE_READONLY: a borrowed connection with query_only on', async () => {
    const db = connect(join(tempDir(), 'jobs.db'));
    db.pragma('query_only = ON');
    const error = await rejection(createSqliteStorage({ database: db }).init());
    expectConfigError(error, 'SQLITE_READONLY');
    expect((error as Error).message).toMatch(/cannot be written/);
  });

  it('a borrowed connection opened read-only, or already closed, is refused up front', async () => {
    const filename = join(tempDir(), 'jobs.db');
    await initialized({ filename });
    // On a migrated WAL file a read-only init succeeds: every write would fail later.
    const readonly = connect(filename, { readonly: true });
    expect(() => createSqliteStorage({ database: readonly })).toThrow(StorageConfigError);
    expect(() => createSqliteStorage({ database: readonly })).toThrow(/open it without `readonly`/);
    const closed = new Database(filename);
    closed.close();
    expect(() => createSqliteStorage({ database: closed })).toThrow(/is closed/);
    expect(() => createSqliteStorage({ database: {} as Database.Database })).toThrow(
      /must be an open better-sqlite3 Database, got an object/,
    );
  });
});

describe('driver failures are SqliteStorageErrors with the SqliteError as cause', () => {
  it('SQLITE_READONLY on every write path; reads still work', async () => {
    const db = connect(join(tempDir(), 'jobs.db'));
    const storage = await initialized({ database: db });
    const { job, leaseToken } = await claimedJob(storage);
    const dead = newJob();
    await storage.enqueue(dead);
    await storage.cancel(dead.id, T0);
    const schedule = await declareSchedule(storage);
    db.pragma('query_only = ON');

    const ack: AckInput = { kind: 'success', id: job.id, leaseToken, now: T0, result: '1' };
    const writes: [string, () => Promise<unknown>][] = [
      ['enqueue', () => storage.enqueue(newJob())],
      ['enqueueMany', () => storage.enqueueMany([newJob(), newJob()])],
      [
        'claim',
        () =>
          storage.claim({
            names: [job.name],
            ownerId: 'w',
            leaseToken: randomUUID(),
            limit: 1,
            now: T0,
            leaseExpiresAt: T0 + 1_000,
          }),
      ],
      [
        'heartbeat',
        () => storage.heartbeat({ jobs: [{ id: job.id, leaseToken }], leaseExpiresAt: T0 + 2_000 }),
      ],
      ['ack', () => storage.ack(ack)],
      ['ackMany', () => storage.ackMany([ack])],
      ['cancel', () => storage.cancel(job.id, T0)],
      ['retry', () => storage.retry(dead.id, T0)],
      ['purge', () => storage.purge({ completedBefore: T0 + 1, limit: 10 })],
      ['upsertSchedule', () => declareSchedule(storage, { id: 's:new' })],
      [
        'updateSchedule',
        () => storage.updateSchedule({ id: schedule.id, patch: { status: 'paused' }, now: T0 }),
      ],
      ['deleteSchedule', () => storage.deleteSchedule(schedule.id)],
      [
        'fireSchedule',
        () =>
          storage.fireSchedule({
            id: schedule.id,
            claim: { expectedNextRunAt: T0, nextRunAt: T0 + 60_000 },
            jobs: [newJob({ name: schedule.name, scheduleId: schedule.id })],
            now: T0,
          }),
      ],
    ];
    for (const [operation, write] of writes) {
      const error = await rejection(write());
      expectStorageError(error, operation, /^SQLITE_READONLY/);
      expect((error as Error).message).toMatch(/cannot be written.*query_only/s);
    }

    expect(await storage.getJob(job.id)).toMatchObject({ status: 'running', leaseToken });
    expect(await storage.getJobStates([dead.id])).toMatchObject([{ status: 'cancelled' }]);
    expect(await storage.listJobs({})).toHaveLength(2);
    expect(await storage.listExpiredLeases({ now: T0 + 5_000, limit: 10 })).toHaveLength(1);
    expect(await storage.getSchedule(schedule.id)).toEqual(schedule);
    expect(await storage.listDueSchedules({ names: [schedule.name], now: T0, limit: 1 })).toEqual([
      schedule,
    ]);
    db.pragma('query_only = OFF');
    expect(await storage.ack(ack)).toBe(true);
  });

  it('SQLITE_FULL: nothing of the failed enqueue is stored, and it works again once there is room', async () => {
    const db = connect(join(tempDir(), 'jobs.db'));
    const storage = await initialized({ database: db });
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 4}`);
    const big = () => newJob({ args: JSON.stringify(['x'.repeat(64 * 1024)]) });
    const job = big();
    const error = await rejection(storage.enqueue(job));
    expectStorageError(error, 'enqueue', /^SQLITE_FULL/);
    expect((error as Error).message).toMatch(/is full.*free disk space/s);
    expect(await storage.getJob(job.id)).toBeUndefined();
    expectStorageError(
      await rejection(storage.enqueueMany([big(), big()])),
      'enqueueMany',
      /^SQLITE_FULL/,
    );
    expect(await storage.listJobs({})).toEqual([]);

    db.pragma(`max_page_count = ${pages + 1_000}`);
    expect((await storage.enqueue(job)).deduplicated).toBe(false);
  });

  it('SQLITE_BUSY: the message names busyTimeoutMs; the write succeeds once the lock is free', async () => {
    const filename = join(tempDir(), 'jobs.db');
    const storage = await initialized({ filename, busyTimeoutMs: 0 });
    const other = connect(filename);
    other.exec('BEGIN IMMEDIATE');
    const job = newJob();
    const error = await rejection(storage.enqueue(job));
    expectStorageError(error, 'enqueue', /^SQLITE_BUSY/);
    expect((error as Error).message).toMatch(
      /longer than busyTimeoutMs \(0 ms\): raise busyTimeoutMs/,
    );
    // Readers are not blocked by a writer in WAL mode.
    expect(await storage.getJob(job.id)).toBeUndefined();
    other.exec('ROLLBACK');
    expect((await storage.enqueue(job)).job.id).toBe(job.id);
  });

  it('SQLITE_MISMATCH: an OFFSET SQLite cannot hold, unwrapped from drizzle without the query or its parameters', async () => {
    // How the issue's 500 arose: `GET /jobs?offset=100000000000000000000` passed the routes'
    // schema and the engine's old `Number.isInteger` check. The engine now refuses offsets
    // above Number.MAX_SAFE_INTEGER (a 400); the adapter still must not leak a SqliteError.
    const storage = await initialized({ filename: ':memory:' });
    const name = 'n'.repeat(10_000);
    const error = await rejection(storage.listJobs({ name, limit: 10, offset: 1e20 }));
    expectStorageError(error, 'listJobs', 'SQLITE_MISMATCH');
    expect((error as Error).message).toMatch(/LIMIT or OFFSET that is not an integer/);
    expect((error as Error).message).not.toMatch(/Failed query|nnnnnnnnnn/);
    expectStorageError(
      await rejection(storage.listJobs({ limit: 1.5, offset: 0 })),
      'listJobs',
      'SQLITE_MISMATCH',
    );
  });

  it('SQLITE_CONSTRAINT_PRIMARYKEY: a job id used twice', async () => {
    const storage = await initialized({ filename: ':memory:' });
    const job = newJob();
    await storage.enqueue(job);
    // Same id, another name and no key: a primary-key violation, not a dedup.
    const error = await rejection(storage.enqueue({ ...job, name: 'other' }));
    expectStorageError(error, 'enqueue', 'SQLITE_CONSTRAINT_PRIMARYKEY');
    expect((error as Error).message).toMatch(/every job needs a new id/);
  });

  it('SQLITE_CORRUPT: a damaged file fails its reads with advice to restore it', async () => {
    const filename = join(tempDir(), 'jobs.db');
    const writer = createSqliteStorage({ filename });
    await writer.init();
    const jobs = Array.from({ length: 50 }, () =>
      newJob({ args: JSON.stringify(['x'.repeat(500)]) }),
    );
    await writer.enqueueMany(jobs);
    await writer.close();
    // Keep page 1 (the header and the schema) and overwrite every other page.
    const size = statSync(filename).size;
    const fd = openSync(filename, 'r+');
    writeSync(fd, Buffer.alloc(size - 4096, 0xab), 0, size - 4096, 4096);
    closeSync(fd);

    const storage = createSqliteStorage({ filename });
    cleanups.push(() => storage.close());
    const error = await rejection(storage.init().then(() => storage.getJob(jobs[3]!.id)));
    expect((error as StorageError).driverCode).toMatch(/^SQLITE_CORRUPT/);
    expectStorageError(error, (error as StorageError).operation!, /^SQLITE_CORRUPT/);
    expect((error as Error).message).toMatch(/damaged: restore it from a backup/);
  });

  it('reads on a table that is gone: getJob, getJobStates, listJobs', async () => {
    const db = connect(':memory:');
    const storage = await initialized({ database: db });
    db.exec('DROP TABLE reseolio_jobs');
    const id = newJob().id;
    expectStorageError(await rejection(storage.getJob(id)), 'getJob', 'SQLITE_ERROR');
    expectStorageError(await rejection(storage.getJobStates([id])), 'getJobStates', 'SQLITE_ERROR');
    expectStorageError(await rejection(storage.listJobs({})), 'listJobs', 'SQLITE_ERROR');
  });

  it('schedule reads on a table that is gone', async () => {
    const db = connect(':memory:');
    const storage = await initialized({ database: db });
    db.exec('DROP TABLE reseolio_schedules');
    const names = ['n'];
    const reads: [string, () => Promise<unknown>][] = [
      ['getSchedule', () => storage.getSchedule('s')],
      ['listSchedules', () => storage.listSchedules({})],
      ['listDueSchedules', () => storage.listDueSchedules({ names, now: T0, limit: 1 })],
      ['nextScheduleRunAt', () => storage.nextScheduleRunAt(names)],
    ];
    for (const [operation, read] of reads) {
      expectStorageError(await rejection(read()), operation, 'SQLITE_ERROR');
    }
  });

  it('a borrowed connection closed under the storage: the TypeError is the cause', async () => {
    const db = new Database(':memory:');
    const storage = await initialized({ database: db });
    db.close();
    const error = await rejection(storage.getJob(newJob().id));
    expect(error).toBeInstanceOf(SqliteStorageError);
    expect((error as StorageError).driverCode).toBeUndefined();
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(
      /getJob failed: The database connection is not open\./,
    );
    // Subscribing touches no driver: it still works.
    const unsubscribe = await storage.subscribe(() => {});
    await unsubscribe();
  });

  it('a driver message is cut to one line of at most 300 characters', () => {
    const error = new SqliteStorageError('getJob', new Error(`line one\n${'x'.repeat(10_000)}`));
    expect(error.message).toMatch(
      /^SQLite storage: getJob failed: line one x+… \(10009 characters\)\.$/,
    );
    expect(error.message.length).toBeLessThan(400);
    expect(error.driverCode).toBeUndefined();
  });
});
