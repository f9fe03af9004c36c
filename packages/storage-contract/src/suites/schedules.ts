import type {
  FireScheduleInput,
  ScheduleRecord,
  ScheduleUpsert,
  StorageAdapter,
} from 'reseolio/storage';
import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  mustGet,
  newJob,
  pendingRecord,
  scheduleDeclaration,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const MINUTE = 60_000;

function stored(input: ScheduleUpsert, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  const { now, ...fields } = input;
  return {
    ...fields,
    status: 'active',
    lastRunAt: null,
    lastJobId: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** The job a tick makes, as the engine makes it. */
function tickJob(schedule: { id: string; name: string }, tick: number, now = tick) {
  return newJob({
    name: schedule.name,
    idempotencyKey: `schedule:${schedule.id}:${tick}`,
    scheduleId: schedule.id,
    createdAt: now,
    runAt: tick,
  });
}

function fireTick(
  schedule: ScheduleRecord,
  tick: number,
  nextRunAt: number | null,
): FireScheduleInput {
  return {
    id: schedule.id,
    claim: { expectedNextRunAt: tick, nextRunAt },
    jobs: [tickJob(schedule, tick)],
    now: tick,
  };
}

async function declare(storage: StorageAdapter, overrides: Partial<ScheduleUpsert> = {}) {
  return (await storage.upsertSchedule(scheduleDeclaration(overrides))).schedule;
}

/** Schedules: declared, edited, listed, and their ticks claimed together with their jobs. */
export function schedulesSuite({ test }: ContractContext): void {
  describe('schedules', () => {
    test('upsertSchedule inserts an active schedule that getSchedule returns as stored', async ({
      storage,
    }) => {
      const input = scheduleDeclaration();
      expect(await storage.upsertSchedule(input)).toEqual({
        schedule: stored(input),
        created: true,
      });
      expect(await storage.getSchedule(input.id)).toEqual(stored(input));
      expect(await storage.getSchedule('schedule:unknown')).toBeUndefined();
    });

    test('upsertSchedule again keeps the next run, the status and updatedAt when nothing changed', async ({
      storage,
    }) => {
      const input = scheduleDeclaration();
      await storage.upsertSchedule(input);
      await storage.updateSchedule({ id: input.id, patch: { status: 'paused' }, now: T0 + 1 });
      const again = await storage.upsertSchedule({
        ...input,
        nextRunAt: T0 + 10 * MINUTE,
        now: T0 + 5 * MINUTE,
      });
      expect(again).toEqual({
        schedule: stored(input, { status: 'paused', updatedAt: T0 + 1 }),
        created: false,
      });
    });

    test('upsertSchedule with another cron or zone moves the next run; other edits keep it', async ({
      storage,
    }) => {
      const input = scheduleDeclaration();
      await storage.upsertSchedule(input);
      const newArgs = await storage.upsertSchedule({
        ...input,
        args: '["detailed"]',
        overlap: 'skip',
        catchUp: 'all',
        catchUpWindowMs: 3_600_000,
        nextRunAt: T0 + 9 * MINUTE,
        now: T0 + 2,
      });
      expect(newArgs.schedule).toEqual(
        stored(input, {
          args: '["detailed"]',
          overlap: 'skip',
          catchUp: 'all',
          catchUpWindowMs: 3_600_000,
          updatedAt: T0 + 2,
        }),
      );
      const newCron = await storage.upsertSchedule({
        ...input,
        cron: '*/5 * * * *',
        nextRunAt: T0 + 5 * MINUTE,
        now: T0 + 3,
      });
      expect(newCron.schedule.nextRunAt).toBe(T0 + 5 * MINUTE);
      expect(newCron.schedule.updatedAt).toBe(T0 + 3);
      const newZone = await storage.upsertSchedule({
        ...input,
        cron: '*/5 * * * *',
        timezone: 'Europe/Berlin',
        nextRunAt: null,
        now: T0 + 4,
      });
      expect(newZone.schedule.nextRunAt).toBeNull();
      expect(newZone.schedule.timezone).toBe('Europe/Berlin');
    });

    test('listSchedules filters by status and name, orders by id, and pages', async ({
      storage,
    }) => {
      const name = uniqueName();
      const ids = ['s:c', 's:a', 's:d', 's:b'];
      for (const id of ids) await declare(storage, { id, name });
      await declare(storage, { id: 's:other' });
      await storage.updateSchedule({ id: 's:d', patch: { status: 'paused' }, now: T0 });
      const list = async (filter: Parameters<StorageAdapter['listSchedules']>[0]) =>
        (await storage.listSchedules(filter)).map((s) => s.id);
      expect(await list({ name })).toEqual(['s:a', 's:b', 's:c', 's:d']);
      expect(await list({ name, status: 'paused' })).toEqual(['s:d']);
      expect(await list({ status: 'active' })).toEqual(['s:a', 's:b', 's:c', 's:other']);
      expect(await list({ name, limit: 2, offset: 1 })).toEqual(['s:b', 's:c']);
      expect(await list({})).toHaveLength(5);
    });

    test('updateSchedule sets the given fields, honours ifStatus, and misses unknown ids', async ({
      storage,
    }) => {
      const schedule = await declare(storage);
      const updated = await storage.updateSchedule({
        id: schedule.id,
        patch: { cron: '0 9 * * 1-5', timezone: 'America/New_York', nextRunAt: T0 + 7 },
        now: T0 + 1,
      });
      expect(updated).toEqual({
        ...schedule,
        cron: '0 9 * * 1-5',
        timezone: 'America/New_York',
        nextRunAt: T0 + 7,
        updatedAt: T0 + 1,
      });
      expect(
        await storage.updateSchedule({
          id: schedule.id,
          patch: { status: 'active', nextRunAt: T0 + 99 },
          ifStatus: 'paused',
          now: T0 + 2,
        }),
      ).toBeUndefined();
      expect(await storage.getSchedule(schedule.id)).toEqual(updated);
      expect(
        await storage.updateSchedule({ id: 'schedule:unknown', patch: {}, now: T0 }),
      ).toBeUndefined();
    });

    test('deleteSchedule removes the schedule and keeps the jobs it made', async ({ storage }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      const fired = await storage.fireSchedule(fireTick(schedule, T0, T0 + MINUTE));
      expect(await storage.deleteSchedule(schedule.id)).toBe(true);
      expect(await storage.deleteSchedule(schedule.id)).toBe(false);
      expect(await storage.getSchedule(schedule.id)).toBeUndefined();
      expect((await mustGet(storage, fired!.jobs[0]!.job.id)).scheduleId).toBe(schedule.id);
      expect(await storage.fireSchedule(fireTick(schedule, T0 + MINUTE, null))).toBeUndefined();
    });

    test('listDueSchedules returns the active due schedules of the given names, soonest first', async ({
      storage,
    }) => {
      const name = uniqueName();
      const late = await declare(storage, { name, id: 's:late', nextRunAt: T0 - 5 });
      const soon = await declare(storage, { name, id: 's:soon', nextRunAt: T0 - 50 });
      await declare(storage, { name, id: 's:now', nextRunAt: T0 });
      await declare(storage, { name, id: 's:future', nextRunAt: T0 + 1 });
      await declare(storage, { name, id: 's:never', nextRunAt: null });
      await declare(storage, { name, id: 's:paused', nextRunAt: T0 - 100 });
      await storage.updateSchedule({ id: 's:paused', patch: { status: 'paused' }, now: T0 });
      await declare(storage, { id: 's:unregistered', nextRunAt: T0 - 100 });
      const due = await storage.listDueSchedules({ names: [name], now: T0, limit: 10 });
      expect(due.map((s) => s.id)).toEqual(['s:soon', 's:late', 's:now']);
      expect(due[0]).toEqual(soon);
      expect(due[1]).toEqual(late);
      expect(
        (await storage.listDueSchedules({ names: [name], now: T0, limit: 1 })).map((s) => s.id),
      ).toEqual(['s:soon']);
      expect(await storage.listDueSchedules({ names: [], now: T0, limit: 10 })).toEqual([]);
    });

    test('nextScheduleRunAt is the earliest next run of the active schedules of the given names', async ({
      storage,
    }) => {
      const name = uniqueName();
      expect(await storage.nextScheduleRunAt([name])).toBeUndefined();
      await declare(storage, { name, id: 's:1', nextRunAt: T0 + 30 });
      await declare(storage, { name, id: 's:2', nextRunAt: T0 + 20 });
      await declare(storage, { name, id: 's:3', nextRunAt: null });
      await declare(storage, { name, id: 's:4', nextRunAt: T0 + 10 });
      await storage.updateSchedule({ id: 's:4', patch: { status: 'paused' }, now: T0 });
      await declare(storage, { id: 's:5', nextRunAt: T0 });
      expect(await storage.nextScheduleRunAt([name])).toBe(T0 + 20);
      expect(await storage.nextScheduleRunAt([])).toBeUndefined();
    });

    test('fireSchedule claims a tick once and inserts its job in the same write', async ({
      storage,
    }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      const input = fireTick(schedule, T0, T0 + MINUTE);
      const job = input.jobs[0]!;
      const fired = await storage.fireSchedule(input);
      expect(fired).toEqual({
        schedule: {
          ...schedule,
          nextRunAt: T0 + MINUTE,
          lastRunAt: T0,
          lastJobId: job.id,
        },
        jobs: [{ job: pendingRecord(job), deduplicated: false }],
      });
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      expect(await storage.getSchedule(schedule.id)).toEqual(fired!.schedule);
      // The same tick again (a second node that read the schedule before the first fired):
      // the compare-and-set fails and nothing is written.
      const late = fireTick(schedule, T0, T0 + MINUTE);
      expect(await storage.fireSchedule(late)).toBeUndefined();
      expect(await storage.getJob(late.jobs[0]!.id)).toBeUndefined();
      expect(await storage.listJobs({ scheduleId: schedule.id })).toHaveLength(1);
    });

    test('fireSchedule with several ticks inserts one job each and records the newest', async ({
      storage,
    }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      const ticks = [T0, T0 + MINUTE, T0 + 2 * MINUTE];
      const jobs = ticks.map((tick) => tickJob(schedule, tick, T0 + 3 * MINUTE));
      const fired = await storage.fireSchedule({
        id: schedule.id,
        claim: { expectedNextRunAt: T0, nextRunAt: T0 + 4 * MINUTE },
        jobs,
        now: T0 + 3 * MINUTE,
      });
      expect(fired!.jobs.map((r) => r.job)).toEqual(jobs.map(pendingRecord));
      expect(fired!.schedule).toMatchObject({
        nextRunAt: T0 + 4 * MINUTE,
        lastRunAt: T0 + 2 * MINUTE,
        lastJobId: jobs[2]!.id,
      });
      const listed = await storage.listJobs({ scheduleId: schedule.id });
      expect(listed.map((j) => j.runAt).sort()).toEqual(ticks);
    });

    test('fireSchedule deduplicates a tick whose job exists, and names the existing job', async ({
      storage,
    }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      const first = tickJob(schedule, T0);
      await storage.enqueue(first);
      const fired = await storage.fireSchedule(fireTick(schedule, T0, T0 + MINUTE));
      expect(fired!.jobs).toEqual([{ job: pendingRecord(first), deduplicated: true }]);
      expect(fired!.schedule.lastJobId).toBe(first.id);
      expect(fired!.schedule.nextRunAt).toBe(T0 + MINUTE);
    });

    test('fireSchedule with no jobs advances the next run and keeps the last run', async ({
      storage,
    }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      await storage.fireSchedule(fireTick(schedule, T0, T0 + MINUTE));
      const skipped = await storage.fireSchedule({
        id: schedule.id,
        claim: { expectedNextRunAt: T0 + MINUTE, nextRunAt: T0 + 2 * MINUTE },
        jobs: [],
        now: T0 + MINUTE,
      });
      expect(skipped!.jobs).toEqual([]);
      expect(skipped!.schedule).toMatchObject({ nextRunAt: T0 + 2 * MINUTE, lastRunAt: T0 });
    });

    test('fireSchedule does not claim a tick of a paused schedule, but a trigger runs it', async ({
      storage,
    }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      await storage.updateSchedule({ id: schedule.id, patch: { status: 'paused' }, now: T0 });
      expect(await storage.fireSchedule(fireTick(schedule, T0, T0 + MINUTE))).toBeUndefined();
      const manual = newJob({ name: schedule.name, scheduleId: schedule.id, runAt: T0 + 5 });
      const triggered = await storage.fireSchedule({
        id: schedule.id,
        jobs: [manual],
        now: T0 + 5,
      });
      expect(triggered!.jobs).toEqual([{ job: pendingRecord(manual), deduplicated: false }]);
      expect(triggered!.schedule).toMatchObject({
        status: 'paused',
        nextRunAt: T0,
        lastRunAt: T0 + 5,
        lastJobId: manual.id,
      });
      expect(
        await storage.fireSchedule({ id: 'schedule:unknown', jobs: [newJob()], now: T0 }),
      ).toBeUndefined();
    });

    test('fireSchedule announces its inserted jobs as ready', async ({ storage }) => {
      const schedule = await declare(storage, { nextRunAt: T0 });
      const log = await recordEvents(storage);
      await storage.fireSchedule(fireTick(schedule, T0, T0 + MINUTE));
      await log.waitFor({ type: 'ready', name: schedule.name, runAt: T0 });
      await log.unsubscribe();
    });

    test('a job keeps its scheduleId through enqueue, claim and listJobs', async ({ storage }) => {
      const job = newJob({ scheduleId: 'reports:daily' });
      await storage.enqueue(job);
      await storage.enqueue(newJob({ name: job.name }));
      expect(await storage.getJob(job.id)).toEqual(pendingRecord(job));
      const [claimed] = await storage.claim({
        leaseToken: 'token',
        names: [job.name],
        ownerId: 'w',
        limit: 1,
        now: T0,
        leaseExpiresAt: T0 + 1,
      });
      expect(claimed?.scheduleId).toBe('reports:daily');
      expect((await storage.listJobs({ scheduleId: 'reports:daily' })).map((j) => j.id)).toEqual([
        job.id,
      ]);
      const [many] = await storage.enqueueMany([newJob({ scheduleId: 's:many' })]);
      expect(many?.job.scheduleId).toBe('s:many');
    });

    test('two instances firing the same ticks at once make exactly one job per tick', async ({
      storage,
      openAnother,
    }) => {
      const other = await openAnother();
      const schedule = await declare(storage, { nextRunAt: T0 });
      let fired = 0;
      for (let i = 0; i < 10; i++) {
        const tick = T0 + i * MINUTE;
        const results = await Promise.all(
          [storage, other].map((s) => s.fireSchedule(fireTick(schedule, tick, tick + MINUTE))),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        fired += winners.length;
      }
      expect(fired).toBe(10);
      const jobs = await storage.listJobs({ scheduleId: schedule.id, limit: 100 });
      expect(jobs.map((j) => j.runAt).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => T0 + i * MINUTE),
      );
    });
  });
}
