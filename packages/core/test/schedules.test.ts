import { describe, expect, it } from 'vitest';
import {
  InvalidScheduleError,
  MemoryStorage,
  Reseolio,
  ReseolioValidationError,
  ScheduleNotFoundError,
  SerializationError,
} from '../src/index.ts';
import { waitFor } from './helpers.ts';

const MINUTE = 60_000;

/** A clock the test moves forward; timers still run in real time from its "now". */
function movableClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms: number) {
      offset += ms;
    },
  };
}

/** The start of the next whole minute after `ms`, plus 30 s (well clear of any tick). */
function midMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE + MINUTE + 30_000;
}

describe('schedules', () => {
  it('schedule() stores a schedule with defaults and its first tick as the next run', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    const report = engine.durable('reports:daily', async (kind: string) => kind);
    const before = Date.now();
    const info = await engine.schedule('reports:daily', report, {
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['summary'],
    });
    expect(info).toMatchObject({
      id: 'reports:daily',
      name: 'reports:daily',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['summary'],
      status: 'active',
      catchUp: 'latest',
      catchUpWindowMs: 86_400_000,
      overlap: 'allow',
      lastRunAt: null,
      lastJobId: null,
    });
    expect(info.nextRunAt!.getTime()).toBeGreaterThan(before);
    // 09:00 in Berlin is 07:00 or 08:00 UTC, on a weekday.
    expect([7, 8]).toContain(info.nextRunAt!.getUTCHours());
    expect([1, 2, 3, 4, 5]).toContain(info.nextRunAt!.getUTCDay());
    expect(await engine.getSchedule('reports:daily')).toEqual(info);
    expect(await engine.getSchedule('unknown')).toBeNull();
    const byName = await engine.schedule('by-name', 'reports:daily', { cron: '* * * * * *' });
    expect(byName.timezone).toBe('UTC');
    expect((await engine.listSchedules()).map((s) => s.id)).toEqual(['by-name', 'reports:daily']);
    expect(
      (await engine.listSchedules({ name: 'reports:daily', limit: 1, offset: 1 })).map((s) => s.id),
    ).toEqual(['reports:daily']);
    await engine.stop();
  });

  it('refuses a bad cron, zone, option or argument list with a typed error and stores nothing', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    const fn = engine.durable('bad:input', async () => {});
    const refused: [unknown, new (...args: never[]) => Error, string][] = [
      [{ cron: 'every day' }, InvalidScheduleError, 'RESEOLIO_INVALID_SCHEDULE'],
      [{ cron: '* * * *' }, InvalidScheduleError, 'RESEOLIO_INVALID_SCHEDULE'],
      [{ cron: '61 * * * *' }, InvalidScheduleError, 'RESEOLIO_INVALID_SCHEDULE'],
      [{ cron: '0 0 30 2 *' }, InvalidScheduleError, 'RESEOLIO_INVALID_SCHEDULE'],
      [
        { cron: '* * * * *', timezone: 'Mars/Olympus' },
        InvalidScheduleError,
        'RESEOLIO_INVALID_SCHEDULE',
      ],
      [{ cron: '* * * * *', timezone: 42 }, InvalidScheduleError, 'RESEOLIO_INVALID_SCHEDULE'],
      [{ timezone: 'UTC' }, ReseolioValidationError, 'RESEOLIO_INVALID_SCHEDULE'],
      [{ cron: '* * * * *', args: [() => 1] }, SerializationError, 'RESEOLIO_UNSERIALIZABLE'],
      [{ cron: '* * * * *', args: [Symbol('x')] }, SerializationError, 'RESEOLIO_UNSERIALIZABLE'],
      [
        { cron: '* * * * *', args: 'not a list' },
        ReseolioValidationError,
        'RESEOLIO_INVALID_OPTION',
      ],
      [{ cron: '* * * * *', catchUp: 'some' }, ReseolioValidationError, 'RESEOLIO_INVALID_OPTION'],
      [{ cron: '* * * * *', overlap: 'queue' }, ReseolioValidationError, 'RESEOLIO_INVALID_OPTION'],
      [
        { cron: '* * * * *', catchUpWindowMs: 0 },
        ReseolioValidationError,
        'RESEOLIO_INVALID_OPTION',
      ],
      [{ cron: '* * * * *', every: 5 }, ReseolioValidationError, 'RESEOLIO_INVALID_OPTION'],
      [null, ReseolioValidationError, 'RESEOLIO_INVALID_OPTION'],
    ];
    for (const [options, type, code] of refused) {
      const call = engine.schedule('bad', fn, options as never);
      await expect(call, JSON.stringify(options)).rejects.toBeInstanceOf(type);
      await expect(engine.schedule('bad', fn, options as never)).rejects.toMatchObject({ code });
    }
    await expect(engine.schedule('', fn, { cron: '* * * * *' })).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_SCHEDULE',
    });
    await expect(
      engine.schedule('bad', 'no spaces allowed', { cron: '* * * * *' }),
    ).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_NAME',
    });
    await expect(engine.schedule('bad', {} as never, { cron: '* * * * *' })).rejects.toMatchObject({
      code: 'RESEOLIO_INVALID_SCHEDULE',
    });
    expect(await engine.listSchedules()).toEqual([]);
    // An edit is checked the same way and changes nothing.
    await engine.schedule('good', fn, { cron: '* * * * *' });
    await expect(engine.updateSchedule('good', { cron: 'nope' })).rejects.toBeInstanceOf(
      InvalidScheduleError,
    );
    await expect(
      engine.updateSchedule('good', { timezone: 'Nowhere/City' }),
    ).rejects.toBeInstanceOf(InvalidScheduleError);
    await expect(engine.updateSchedule('good', { args: [new WeakMap()] })).rejects.toBeInstanceOf(
      SerializationError,
    );
    expect((await engine.getSchedule('good'))!.cron).toBe('* * * * *');
    for (const call of [
      engine.updateSchedule('missing', { cron: '* * * * *' }),
      engine.pauseSchedule('missing'),
      engine.resumeSchedule('missing'),
      engine.triggerSchedule('missing'),
    ]) {
      await expect(call).rejects.toBeInstanceOf(ScheduleNotFoundError);
    }
    expect(await engine.deleteSchedule('missing')).toBe(false);
    await engine.stop();
  });

  it('keeps a paused schedule paused when schedule() declares it again', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    const fn = engine.durable('redeclared', async () => {});
    await engine.schedule('s', fn, { cron: '*/5 * * * *' });
    await engine.pauseSchedule('s');
    const again = await engine.schedule('s', fn, { cron: '*/5 * * * *', args: [] });
    expect(again.status).toBe('paused');
    const moved = await engine.schedule('s', fn, { cron: '*/10 * * * *' });
    expect(moved.status).toBe('paused');
    expect(moved.nextRunAt!.getUTCMinutes() % 10).toBe(0);
    await engine.stop();
  });

  it('after downtime of 10 ticks: skip makes no run, latest one, all ten with their own tick times', async () => {
    const storage = new MemoryStorage();
    const clock = movableClock();
    clock.advance(midMinute(Date.now()) - Date.now());
    const declaring = new Reseolio({ storage, workerConcurrency: 0 }, clock);
    const fn = declaring.durable('downtime', async () => {});
    const declaredAt = clock.now();
    for (const catchUp of ['skip', 'latest', 'all'] as const) {
      await declaring.schedule(`down:${catchUp}`, fn, { cron: '* * * * *', catchUp });
    }
    await declaring.stop();
    // Ten ticks pass with no node that runs the function.
    clock.advance(10 * MINUTE);
    const ticks = Array.from(
      { length: 10 },
      (_, i) => Math.ceil(declaredAt / MINUTE) * MINUTE + i * MINUTE,
    );
    const worker = new Reseolio({ storage }, clock);
    worker.durable('downtime', async () => {});
    await worker.start();
    await waitFor(
      async () => (await storage.getSchedule('down:all'))!.nextRunAt! > clock.now() - 1_000,
    );
    await waitFor(
      async () => (await storage.getSchedule('down:skip'))!.nextRunAt! > clock.now() - 1_000,
    );
    await waitFor(
      async () => (await storage.getSchedule('down:latest'))!.nextRunAt! > clock.now() - 1_000,
    );
    const runsOf = async (id: string) =>
      (await storage.listJobs({ scheduleId: id })).map((job) => job.runAt).sort();
    expect(await runsOf('down:skip')).toEqual([]);
    expect(await runsOf('down:latest')).toEqual([ticks[9]]);
    expect(await runsOf('down:all')).toEqual(ticks);
    await worker.stop();
  });

  it('pause stops runs, resume restarts from the next tick, update moves the next run, trigger runs once, delete ends it', async () => {
    const clock = movableClock();
    clock.advance(midMinute(Date.now()) - Date.now());
    const storage = new MemoryStorage();
    const engine = new Reseolio({ storage }, clock);
    const runs: string[] = [];
    const fn = engine.durable('ops', async (label: string) => {
      runs.push(label);
    });
    await engine.start();
    const first = await engine.schedule('ops', fn, { cron: '* * * * *', args: ['tick'] });
    const paused = await engine.pauseSchedule('ops');
    expect(paused.status).toBe('paused');
    // Ticks pass while paused: nothing runs, and resume does not catch them up.
    clock.advance(5 * MINUTE);
    const resumed = await engine.resumeSchedule('ops');
    expect(resumed.status).toBe('active');
    expect(resumed.nextRunAt!.getTime()).toBeGreaterThan(clock.now());
    expect(resumed.nextRunAt!.getTime()).toBeGreaterThan(first.nextRunAt!.getTime());
    expect(await storage.listJobs({ scheduleId: 'ops' })).toEqual([]);
    // Resuming an active schedule changes nothing.
    expect(await engine.resumeSchedule('ops')).toEqual(resumed);

    const updated = await engine.updateSchedule('ops', { cron: '0 */2 * * *', args: ['edited'] });
    expect(updated.nextRunAt!.getUTCMinutes()).toBe(0);
    expect(updated.nextRunAt!.getUTCHours() % 2).toBe(0);
    expect(updated.args).toEqual(['edited']);

    await engine.pauseSchedule('ops');
    const handle = await engine.triggerSchedule('ops');
    await handle.result(10_000);
    expect(runs).toEqual(['edited']);
    const details = await handle.details();
    expect(details.scheduleId).toBe('ops');
    const afterTrigger = (await engine.getSchedule('ops'))!;
    expect(afterTrigger.lastJobId).toBe(handle.jobId);
    expect(afterTrigger.status).toBe('paused');
    expect(afterTrigger.nextRunAt).toEqual(updated.nextRunAt);

    expect(await engine.deleteSchedule('ops')).toBe(true);
    expect(await engine.getSchedule('ops')).toBeNull();
    expect((await handle.details()).scheduleId).toBe('ops');
    await engine.stop();
  });

  it('runs each tick of a seconds schedule once, with details().scheduleId', async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    const seen: number[] = [];
    const fn = engine.durable('every-second', async (n: number) => {
      seen.push(n);
    });
    await engine.start();
    await engine.schedule('every-second', fn, { cron: '* * * * * *', args: [7] });
    await waitFor(() => seen.length >= 3, { timeoutMs: 20_000, what: 'three ticks' });
    const jobs = await engine.listJobs({ scheduleId: 'every-second' });
    const ticks = jobs.map((job) => job.runAt.getTime());
    expect(new Set(ticks).size).toBe(ticks.length);
    for (const tick of ticks) expect(tick % 1000).toBe(0);
    expect(jobs.every((job) => job.scheduleId === 'every-second')).toBe(true);
    expect(seen.every((n) => n === 7)).toBe(true);
    await engine.stop();
  });

  it("overlap 'skip' makes no run while the last one is unfinished", async () => {
    const engine = new Reseolio({ storage: 'memory:' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const slow = engine.durable('slow', async () => {
      started += 1;
      await released;
    });
    await engine.start();
    await engine.schedule('slow', slow, { cron: '* * * * * *', overlap: 'skip' });
    await waitFor(() => started === 1, { timeoutMs: 20_000, what: 'the first run' });
    const first = (await engine.getSchedule('slow'))!;
    // Three more ticks pass (the next run moves on) while the first run is still running.
    await waitFor(
      async () =>
        (await engine.getSchedule('slow'))!.nextRunAt!.getTime() >=
        first.nextRunAt!.getTime() + 3_000,
      { timeoutMs: 20_000, what: 'three skipped ticks' },
    );
    expect(await engine.listJobs({ scheduleId: 'slow' })).toHaveLength(1);
    expect(started).toBe(1);
    release();
    await waitFor(() => started >= 2, {
      timeoutMs: 20_000,
      what: 'a run after the first finished',
    });
    await engine.stop();
  });
});
