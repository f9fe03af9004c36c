import { randomUUID } from 'node:crypto';
import { currentJob, type JobDetails, reportProgress } from 'reseolio';
import { describe, expect, it } from 'vitest';
import {
  engineOn,
  parsed,
  postgresTarget,
  reseolio,
  sqliteTarget,
  type Target,
} from './helpers.ts';

const storages: [string, (testName: string) => Promise<Target>][] = [
  ['SQLite', async () => sqliteTarget()],
  ['PostgreSQL', postgresTarget],
];

describe.each(storages)('on %s', (kind, targetFor) => {
  /** A migrated target for the running test. */
  async function migrated(testName: string): Promise<Target> {
    const target = await targetFor(`${kind} ${testName}`);
    const run = await reseolio(['migrate', ...target.args]);
    expect(run.code, run.stderr).toBe(0);
    return target;
  }

  /** A migrated target, a function name of the test's own, and an engine on it. */
  async function seeded(testName: string, workerConcurrency = 0) {
    const target = await migrated(testName);
    const engine = await engineOn(target, { workerConcurrency });
    return { target, engine, name: `cli:${randomUUID().slice(0, 8)}` };
  }

  it('migrate --dry-run prints the SQL and changes nothing; migrate applies it once', async ({
    task,
  }) => {
    const target = await targetFor(`${kind} ${task.name}`);
    const dryRun = await reseolio(['migrate', '--dry-run', ...target.args]);
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toMatch(/^-- 0000_init\nCREATE /);
    expect(dryRun.stdout).toContain('-- 0007_observability');
    if (target.kind === 'postgres') {
      // The SQL as it would run: on the chosen schema, never the default one.
      expect(dryRun.stdout).toContain(`CREATE SCHEMA IF NOT EXISTS "${target.args[3]}"`);
      expect(dryRun.stdout).not.toContain('"reseolio".');
    }
    const dryJson = parsed(await reseolio(['migrate', '--dry-run', '--json', ...target.args]));
    expect(dryJson).toMatchObject({ dryRun: true, applied: 0 });
    expect(dryJson.pending.length).toBe(dryJson.shipped);
    // Nothing changed: the other commands still find no tables.
    const notMigrated = await reseolio(['jobs', 'list', ...target.args]);
    expect(notMigrated.code).toBe(1);
    expect(notMigrated.stderr).toContain('no Reseolio tables yet: run `reseolio migrate`');

    const first = await reseolio(['migrate', '--json', ...target.args]);
    expect(first.code, first.stderr).toBe(0);
    const result = parsed(first);
    expect(result.migrated).toEqual(dryJson.pending.map((m: { tag: string }) => m.tag));
    expect(result).toMatchObject({ dryRun: false, applied: result.shipped, pending: [] });
    const again = await reseolio(['migrate', ...target.args]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Up to date: all ${result.shipped} migrations are applied.`);
    const dryAgain = await reseolio(['migrate', '--dry-run', ...target.args]);
    expect(dryAgain.stdout).toBe('');
  });

  it('jobs list and show: tables, filters, JSON with ISO dates, progress and errors', async ({
    task,
  }) => {
    const { target, name, engine } = await seeded(task.name, 2);
    const fails = engine.durable(
      `${name}:fails`,
      async (_order: number) => {
        reportProgress({ step: 'charging' });
        throw new TypeError('card declined');
      },
      { maxAttempts: 1 },
    );
    const works = engine.durable(`${name}:works`, async (order: number) => ({
      order,
      by: currentJob()?.name,
    }));
    await engine.start();
    const dead = await fails(1);
    const done = await works(2);
    await expect(dead.result(20_000)).rejects.toThrow('card declined');
    await done.result(20_000);
    const pending = await engine.enqueue(`${name}:nobody`, [{ when: new Date(0) }]);

    const all = await reseolio(['jobs', 'list', '--json', ...target.args]);
    expect(all.code, all.stderr).toBe(0);
    const listed = parsed<Record<string, unknown>[]>(all);
    expect(listed.map((j) => j.id).sort()).toEqual([dead.jobId, done.jobId, pending.jobId].sort());
    expect(listed.find((j) => j.id === pending.jobId)).toMatchObject({
      status: 'pending',
      args: [{ when: '1970-01-01T00:00:00.000Z' }],
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });

    const deadOnly = parsed(
      await reseolio(['jobs', 'list', '--status', 'dead,cancelled', '--json', ...target.args]),
    );
    expect(deadOnly.map((j: JobDetails) => j.id)).toEqual([dead.jobId]);
    const byName = parsed(
      await reseolio(['jobs', 'list', '--name', `${name}:works`, '--json', ...target.args]),
    );
    expect(byName.map((j: JobDetails) => j.id)).toEqual([done.jobId]);
    const limited = await reseolio(['jobs', 'list', '--limit', '1', ...target.args]);
    expect(limited.stderr).toContain('more may match; use --offset 1');

    const table = await reseolio(['jobs', 'list', ...target.args]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+STATUS\s+ATTEMPT\s+CREATED\s+RUN AT$/);
    expect(rows).toHaveLength(3);
    const deadRow = rows.find((row) => row.startsWith(dead.jobId))!;
    expect(deadRow).toMatch(new RegExp(`${name}:fails\\s+dead\\s+1/1\\s+\\d{4}-`));
    // Aligned: every row's status starts in the header's STATUS column.
    const column = header!.indexOf('STATUS');
    for (const row of rows) expect(row.slice(column)).toMatch(/^(dead|success|pending) /);

    const show = await reseolio(['jobs', 'show', dead.jobId, '--json', ...target.args]);
    expect(show.code, show.stderr).toBe(0);
    expect(parsed(show)).toMatchObject({
      id: dead.jobId,
      status: 'dead',
      args: [1],
      error: { name: 'TypeError', message: 'card declined' },
      progress: { step: 'charging' },
    });
    const shown = await reseolio(['jobs', 'show', done.jobId, ...target.args]);
    expect(shown.stdout).toMatch(new RegExp(`^id +${done.jobId}$`, 'm'));
    expect(shown.stdout).toMatch(/^status +success$/m);
    expect(shown.stdout).toContain(`result:\n  {\n    "order": 2,\n    "by": "${name}:works"\n  }`);
    const shownDead = await reseolio(['jobs', 'show', dead.jobId, ...target.args]);
    expect(shownDead.stdout).toMatch(/^progress +\{/m);
    expect(shownDead.stdout).toMatch(/error:\n {2}TypeError: card declined\n {4}at /);

    const unknown = randomUUID();
    const missing = await reseolio(['jobs', 'show', unknown, ...target.args]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`No job with id "${unknown}" exists`);
    expect(missing.stdout).toBe('');
  });

  it('bulk retry by filter with --yes changes exactly the matching jobs', async ({ task }) => {
    const { target, name, engine } = await seeded(task.name, 4);
    const handler = async () => {
      throw new Error('down');
    };
    const mail = engine.durable(`${name}:mail`, handler, { maxAttempts: 1 });
    const sms = engine.durable(`${name}:sms`, handler, { maxAttempts: 1 });
    await engine.start();
    const mails = await mail.enqueueMany([[], [], []]);
    const smses = await sms.enqueueMany([[], []]);
    for (const handle of [...mails, ...smses]) {
      await expect(handle.result(20_000)).rejects.toThrow('down');
    }
    // Stop running them, so that retried jobs stay pending where the test can see them.
    await engine.stop();
    const checker = await engineOn(target);
    const cancelledMail = await checker.enqueue(`${name}:mail`, [], { delayMs: 3_600_000 });
    await cancelledMail.cancel();

    const run = await reseolio([
      'jobs',
      'retry',
      '--status',
      'dead',
      '--name',
      `${name}:mail`,
      '--yes',
      '--json',
      ...target.args,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = parsed(run);
    expect(result.matched).toBe(3);
    expect([...result.changed].sort()).toEqual(mails.map((h) => h.jobId).sort());
    expect(result.failed).toEqual([]);

    const statusOf = async (id: string) => (await checker.getHandle(id).details()).status;
    for (const handle of mails) {
      expect(await statusOf(handle.jobId)).toBe('pending');
      expect((await checker.getHandle(handle.jobId).details()).attempt).toBe(0);
    }
    for (const handle of smses) expect(await statusOf(handle.jobId)).toBe('dead');
    expect(await statusOf(cancelledMail.jobId)).toBe('cancelled');

    // Human output, and then a filter that matches nothing.
    const retrySms = () =>
      reseolio([
        'jobs',
        'retry',
        '--status',
        'dead',
        '--name',
        `${name}:sms`,
        '--yes',
        ...target.args,
      ]);
    const human = await retrySms();
    expect(human.stdout).toBe('Retried 2 jobs.\n');
    const none = await retrySms();
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('No jobs match.\n');
  });

  it('retry and cancel by id: each job changed, or exit 1 saying which and why', async ({
    task,
  }) => {
    const { target, name, engine } = await seeded(task.name);
    const [first, second] = await Promise.all([
      engine.enqueue(name, [1], { delayMs: 3_600_000 }),
      engine.enqueue(name, [2], { delayMs: 3_600_000 }),
    ]);

    const cancelled = await reseolio([
      'jobs',
      'cancel',
      first!.jobId,
      second!.jobId,
      '--json',
      ...target.args,
    ]);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(parsed(cancelled)).toEqual({ changed: [first!.jobId, second!.jobId], failed: [] });
    expect(await first!.status()).toBe('cancelled');

    const again = await reseolio(['jobs', 'cancel', first!.jobId, ...target.args]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `Job ${first!.jobId} is cancelled: only pending, running, waiting jobs can be cancelled.`,
    );
    expect(again.stderr).toContain('1 of 1 jobs not cancelled.');

    const unknown = randomUUID();
    const retried = await reseolio([
      'jobs',
      'retry',
      first!.jobId,
      unknown,
      '--json',
      ...target.args,
    ]);
    expect(retried.code).toBe(1);
    const result = parsed(retried);
    expect(result.changed).toEqual([first!.jobId]);
    expect(result.failed).toEqual([
      { id: unknown, reason: expect.stringContaining(`No job with id "${unknown}" exists`) },
    ]);
    expect(await first!.status()).toBe('pending');
    const notDead = await reseolio(['jobs', 'retry', first!.jobId, ...target.args]);
    expect(notDead.code).toBe(1);
    expect(notDead.stderr).toContain('is pending: only dead or cancelled jobs can be retried');
  });

  it('schedules list, pause, resume and trigger', async ({ task }) => {
    const { target, name, engine } = await seeded(task.name);
    await engine.schedule('nightly', name, {
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      args: [7],
    });
    await engine.schedule('hourly', name, { cron: '0 * * * *' });

    const list = await reseolio(['schedules', 'list', '--json', ...target.args]);
    expect(list.code, list.stderr).toBe(0);
    expect(parsed(list).map((s: { id: string }) => s.id)).toEqual(['hourly', 'nightly']);
    expect(parsed(list)[1]).toMatchObject({
      name,
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      args: [7],
      status: 'active',
      nextRunAt: expect.stringMatching(/T0[12]:00:00\.000Z$/),
    });
    const table = await reseolio(['schedules', 'list', ...target.args]);
    expect(table.stdout).toMatch(
      /^ID\s+FUNCTION\s+CRON\s+TIMEZONE\s+STATUS\s+NEXT RUN\s+LAST RUN\n/,
    );
    expect(table.stdout).toMatch(/nightly\s+cli:\S+\s+0 3 \* \* \*\s+Europe\/Paris\s+active/);

    const paused = await reseolio(['schedules', 'pause', 'nightly', '--json', ...target.args]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(parsed(paused)).toMatchObject({ id: 'nightly', status: 'paused' });
    expect((await engine.getSchedule('nightly'))?.status).toBe('paused');
    const onlyPaused = parsed(
      await reseolio(['schedules', 'list', '--status', 'paused', '--json', ...target.args]),
    );
    expect(onlyPaused.map((s: { id: string }) => s.id)).toEqual(['nightly']);
    const resumed = await reseolio(['schedules', 'resume', 'nightly', ...target.args]);
    expect(resumed.stdout).toMatch(/^Schedule nightly is active; next run \d{4}-/);

    const triggered = await reseolio(['schedules', 'trigger', 'nightly', '--json', ...target.args]);
    expect(triggered.code, triggered.stderr).toBe(0);
    const { jobId } = parsed(triggered);
    const job = await engine.getHandle(jobId).details();
    expect(job).toMatchObject({ name, scheduleId: 'nightly', args: [7], status: 'pending' });

    const missing = await reseolio(['schedules', 'pause', 'weekly', ...target.args]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No schedule with id "weekly"');
  });

  it('stats counts jobs by function and status', async ({ task }) => {
    const { target, name, engine } = await seeded(task.name);
    await engine.enqueue(`${name}:a`, [], { runAt: Date.now() - 60_000 });
    await engine.enqueue(`${name}:a`, []);
    await (await engine.enqueue(`${name}:b`, [])).cancel();

    const run = await reseolio(['stats', '--json', ...target.args]);
    expect(run.code, run.stderr).toBe(0);
    const stats = parsed(run);
    expect(stats.at).toMatch(/Z$/);
    expect(stats.totals).toEqual({
      pending: 2,
      running: 0,
      waiting: 0,
      success: 0,
      dead: 0,
      cancelled: 1,
    });
    expect(stats.functions).toEqual([
      {
        name: `${name}:a`,
        counts: { pending: 2, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 0 },
        oldestPendingAgeMs: expect.any(Number),
      },
      {
        name: `${name}:b`,
        counts: { pending: 0, running: 0, waiting: 0, success: 0, dead: 0, cancelled: 1 },
        oldestPendingAgeMs: null,
      },
    ]);
    expect(stats.functions[0].oldestPendingAgeMs).toBeGreaterThanOrEqual(59_000);

    const table = await reseolio(['stats', ...target.args]);
    expect(table.stdout).toMatch(
      /^FUNCTION\s+PENDING\s+RUNNING\s+WAITING\s+SUCCESS\s+DEAD\s+CANCELLED\s+OLDEST PENDING\n/,
    );
    expect(table.stdout).toMatch(new RegExp(`${name}:a\\s+2\\s+0\\s+0\\s+0\\s+0\\s+0\\s+1m`));
    expect(table.stdout).toMatch(/TOTAL\s+2\s+0\s+0\s+0\s+0\s+1\s*$/m);
  });

  it('doctor: exit 0 when healthy, 3 with stuck jobs, 1 when not migrated', async ({ task }) => {
    const target = await targetFor(`${kind} ${task.name}`);
    const unmigrated = await reseolio(['doctor', '--json', ...target.args]);
    expect(unmigrated.code).toBe(1);
    expect(parsed(unmigrated)).toMatchObject({
      status: 'fail',
      checks: [
        { name: 'connectivity', status: 'ok' },
        {
          name: 'migrations',
          status: 'fail',
          message: expect.stringContaining('reseolio migrate'),
        },
        { name: 'clock' },
        { name: 'expired leases', status: 'skip' },
        { name: 'overdue jobs', status: 'skip' },
      ],
    });
    expect((await reseolio(['migrate', ...target.args])).code).toBe(0);

    const healthy = await reseolio(['doctor', ...target.args]);
    expect(healthy.code, healthy.stdout + healthy.stderr).toBe(0);
    expect(healthy.stdout).toMatch(/^ok {4}connectivity {4}\w+ storage answered in/m);
    expect(healthy.stdout).toMatch(/^ok {4}migrations {6}all \d+ applied$/m);
    expect(healthy.stdout).toMatch(
      target.kind === 'postgres' ? /^ok {4}clock {11}this machine's clock is/m : /^skip {2}clock/m,
    );

    // Stuck: a job due ten minutes ago that nothing started, and a running job whose lease
    // expired ten minutes ago that nothing took back.
    const name = `cli:${randomUUID().slice(0, 8)}`;
    const engine = await engineOn(target);
    await engine.enqueue(`${name}:late`, [], { runAt: Date.now() - 600_000 });
    const lost = await engine.enqueue(`${name}:lost`, [], { runAt: Date.now() - 700_000 });
    const storage = target.adapter();
    await storage.init();
    const claimed = await storage.claim({
      names: [`${name}:lost`],
      ownerId: 'gone-worker',
      leaseToken: randomUUID(),
      limit: 1,
      now: Date.now() - 650_000,
      leaseExpiresAt: Date.now() - 600_000,
    });
    await storage.close();
    expect(claimed.map((j) => j.id)).toEqual([lost.jobId]);

    const stuck = await reseolio(['doctor', '--stuck-after', '5m', '--json', ...target.args]);
    expect(stuck.code, stuck.stderr).toBe(3);
    const report = parsed(stuck);
    expect(report.status).toBe('warn');
    const check = (n: string) => report.checks.find((c: { name: string }) => c.name === n);
    expect(check('expired leases')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining(lost.jobId),
    });
    expect(check('overdue jobs')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining(`${name}:late 10m`),
    });
    // A threshold above both delays: healthy again.
    const patient = await reseolio(['doctor', '--stuck-after', '1h', ...target.args]);
    expect(patient.code, patient.stdout).toBe(0);
  });

  it('an unreachable or unusable storage fails with exit 1 and says why', async ({ task }) => {
    const target = await migrated(task.name);
    const broken =
      target.kind === 'postgres'
        ? ['--storage', 'postgres://postgres@127.0.0.1:1/none']
        : ['--storage', 'sqlite:/nonexistent-dir/sub/jobs.db'];
    const list = await reseolio(['jobs', 'list', ...broken]);
    const doctor = await reseolio(['doctor', '--json', ...broken]);
    if (target.kind === 'postgres') {
      expect(list.code).toBe(1);
      expect(list.stderr).toMatch(/ECONNREFUSED/);
      expect(doctor.code).toBe(1);
      expect(parsed(doctor).checks).toEqual([
        { name: 'connectivity', status: 'fail', message: expect.stringMatching(/ECONNREFUSED/) },
      ]);
    } else {
      // A SQLite file that is not there has no tables: the CLI never creates it.
      expect(list.code).toBe(1);
      expect(list.stderr).toContain('no Reseolio tables yet');
      expect(doctor.code).toBe(1);
    }
  });
});
