import { Injectable, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { waitFor } from '@reseolio/test-utils';
import { InvalidScheduleError, Reseolio, ReseolioValidationError } from 'reseolio';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  Durable,
  type DurableMethodOptions,
  RESEOLIO_ENGINE,
  ReseolioModule,
} from '../src/index.ts';
import { tmpSqliteUrl, track } from './helpers.ts';

const fast = { pollIntervalMs: 50, defaults: { initialDelayMs: 5, jitter: 0 } } as const;

/** A real Nest app with the module on `storage` (memory unless given) and the given providers, initialized. */
async function boot(providers: Type[], storage = 'memory:') {
  const moduleRef = await Test.createTestingModule({
    imports: [ReseolioModule.forRoot({ storage, ...fast })],
    providers,
  }).compile();
  const app = track(moduleRef.createNestApplication());
  await app.init();
  return { app, engine: app.get<Reseolio>(RESEOLIO_ENGINE) };
}

/** A module whose init is expected to fail: the error `app.init()` rejects with. */
async function bootError(providers: Type[], instance?: Reseolio): Promise<unknown> {
  const moduleRef = await Test.createTestingModule({
    imports: [ReseolioModule.forRoot(instance ? { instance } : { storage: 'memory:', ...fast })],
    providers,
  }).compile();
  const app = track(moduleRef.createNestApplication());
  return app.init().then(
    () => 'booted',
    (error: unknown) => error,
  );
}

describe('@Durable({ schedule })', () => {
  it('declares the schedule at boot and runs the method on it (SQLite file)', async () => {
    @Injectable()
    class Ticker {
      readonly seen: string[] = [];

      @Durable('ticker:tick', { schedule: { cron: '* * * * * *', args: ['ping'] } })
      async tick(message: string): Promise<string> {
        this.seen.push(message);
        return message;
      }
    }
    const { app, engine } = await boot([Ticker], tmpSqliteUrl());
    expect(await engine.getSchedule('ticker:tick')).toMatchObject({
      id: 'ticker:tick',
      name: 'ticker:tick',
      cron: '* * * * * *',
      timezone: 'UTC',
      args: ['ping'],
      status: 'active',
    });
    // Wait for a run by its state: the schedule fires each second, on a busy machine later.
    const [run] = await waitFor(
      async () => {
        const runs = await engine.listJobs({ scheduleId: 'ticker:tick', status: 'success' });
        return runs.length > 0 && runs;
      },
      { timeoutMs: 30_000, what: 'a successful run of ticker:tick' },
    );
    expect(run).toMatchObject({ name: 'ticker:tick', args: ['ping'], result: 'ping' });
    expect(app.get(Ticker).seen).toContain('ping');
  });

  it('takes schedule.id, every schedule option, and the one-object form', async () => {
    @Injectable()
    class Reports {
      @Durable('reports:send', {
        maxAttempts: 2,
        schedule: {
          id: 'reports:daily',
          cron: '0 9 * * 1-5',
          timezone: 'Europe/Berlin',
          args: ['ops@example.com'],
          catchUp: 'all',
          catchUpWindowMs: 3_600_000,
          overlap: 'skip',
        },
      })
      async send(to: string): Promise<string> {
        return to;
      }

      @Durable({ name: 'reports:weekly', schedule: { cron: '0 9 * * 1' } })
      async weekly(): Promise<void> {}

      @Durable('reports:plain')
      async plain(): Promise<void> {}
    }
    const { engine } = await boot([Reports]);
    expect(await engine.getSchedule('reports:daily')).toMatchObject({
      name: 'reports:send',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      args: ['ops@example.com'],
      catchUp: 'all',
      catchUpWindowMs: 3_600_000,
      overlap: 'skip',
    });
    expect(await engine.getSchedule('reports:send')).toBeNull();
    expect(await engine.getSchedule('reports:weekly')).toMatchObject({ name: 'reports:weekly' });
    expect((await engine.listSchedules()).map((s) => s.id).sort()).toEqual([
      'reports:daily',
      'reports:weekly',
    ]);
    // A triggered run uses the registration's retry policy.
    const run = await engine.triggerSchedule('reports:daily');
    expect(await run.result(5000)).toBe('ops@example.com');
    expect((await run.details()).maxAttempts).toBe(2);
  });

  it('fails app.init() with InvalidScheduleError for a bad cron or zone, naming the method, and registers nothing', async () => {
    @Injectable()
    class BadCron {
      @Durable('bad:cron', { schedule: { cron: 'every morning' } })
      async run(): Promise<void> {}
    }
    const engine = new Reseolio({ storage: 'memory:', ...fast });
    onTestFinished(() => engine.stop({ timeoutMs: 100 }));
    const error = await bootError([BadCron], engine);
    expect(error).toBeInstanceOf(InvalidScheduleError);
    expect((error as Error).message).toMatch(/BadCron\.run/);
    expect((error as InvalidScheduleError).code).toBe('RESEOLIO_INVALID_SCHEDULE');
    // Checked before anything was registered or stored.
    expect(() => engine.durable('bad:cron', async () => {})).not.toThrow();
    expect(await engine.listSchedules()).toEqual([]);

    @Injectable()
    class BadZone {
      @Durable('bad:zone', { schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } })
      async run(): Promise<void> {}
    }
    expect(await bootError([BadZone])).toBeInstanceOf(InvalidScheduleError);
  });

  it('fails app.init() with ReseolioValidationError for a bad option, a missing cron, or a schedule id used twice', async () => {
    const cases: [DurableMethodOptions['schedule'], RegExp][] = [
      [{ cron: '0 9 * * *', overlap: 'never' as 'skip' }, /overlap/],
      [{ cron: '0 9 * * *', catchUpWindowMs: 0 }, /catchUpWindowMs/],
      [{ cron: '0 9 * * *', args: 'x' as unknown as [] }, /args/],
      [{ cron: '0 9 * * *', id: '' }, /schedule id/],
      [{} as { cron: string }, /cron/],
      ['0 9 * * *' as unknown as { cron: string }, /must be an object/],
    ];
    for (const [schedule, message] of cases) {
      @Injectable()
      class Bad {
        @Durable('bad:option', { schedule })
        async run(): Promise<void> {}
      }
      const error = await bootError([Bad]);
      expect(error, message.source).toBeInstanceOf(ReseolioValidationError);
      expect((error as Error).message).toMatch(/Bad\.run/);
      expect((error as Error).message).toMatch(message);
    }

    @Injectable()
    class Twice {
      @Durable('twice:a', { schedule: { id: 'shared', cron: '0 9 * * *' } })
      async a(): Promise<void> {}

      @Durable('twice:b', { schedule: { id: 'shared', cron: '0 10 * * *' } })
      async b(): Promise<void> {}
    }
    const twice = await bootError([Twice]);
    expect(twice).toBeInstanceOf(ReseolioValidationError);
    expect((twice as Error).message).toMatch(/"shared" is used by both Twice\.a and Twice\.b/);
  });
});
