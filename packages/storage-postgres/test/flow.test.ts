import {
  compareWithReference,
  fenceOf,
  flowClaimInput,
  LEASE_MS,
  newJob,
  T0,
} from '@reseolio/storage-contract';
import { type FlowRule, type JobRecord, MemoryStorage } from 'reseolio/storage';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { PostgresStorage } from '../src/postgres-storage.ts';
import { buffersTouched, claimPlan } from './claim-plan.ts';
import { adminQuery, appliedTags, dropSchema, schemaAt, schemaFor, storageOn } from './helpers.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.();
});

async function freshSchema(testName: string): Promise<string> {
  const schema = schemaFor('flow.test', testName);
  await dropSchema(schema);
  onTestFinished(() => dropSchema(schema));
  return schema;
}

async function open(schema: string, poolSize = 4): Promise<PostgresStorage> {
  const storage = storageOn(schema, { listen: false, poolSize });
  closers.push(() => storage.close());
  await storage.init();
  return storage;
}

/** Inserts `count` rows straight into the jobs table (a fixture, not an engine path). */
async function insertRows(
  schema: string,
  count: number,
  {
    name,
    status,
    runAt,
    priority = 0,
    key = null,
  }: {
    name: string;
    status: 'pending' | 'waiting';
    runAt: string;
    priority?: number | string;
    key?: string | null;
  },
): Promise<void> {
  await adminQuery(
    `INSERT INTO "${schema}".jobs (id, name, status, args, policy, max_attempts, created_at,
       run_at, priority, concurrency_key, waiting_for)
     SELECT gen_random_uuid(), $1, $2, '[]', '{}', 1, ${T0}, ${runAt}, ${priority}, ${key},
       CASE WHEN $2 = 'waiting' THEN '{}' END
     FROM generate_series(1, ${count}) AS g`,
    [name, status],
  );
}

describe('priorities and flow rules on PostgreSQL', () => {
  it('a schema at 0005 upgrades: its jobs read priority 0 and null keys, stay claimable, and rank below higher priorities', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const { pool, shipped } = await schemaAt(schema, '0005_workflows');
    closers.push(() => pool.end());
    // Jobs written by the previous version, with its column list.
    const olds = [newJob({ runAt: T0 - 10 }), newJob({ runAt: T0 - 5 })];
    const name = olds[0]!.name;
    for (const old of olds) {
      await pool.query(
        `INSERT INTO "${schema}".jobs (id, name, status, args, policy, attempt, max_attempts,
           schedule_id, created_at, run_at) VALUES ($1, $2, 'pending', $3, $4, 0, $5, NULL, $6, $7)`,
        [old.id, name, old.args, old.policy, old.maxAttempts, old.createdAt, old.runAt],
      );
    }
    const storage = await open(schema);
    expect(await appliedTags(schema)).toEqual(shipped.map((m) => m.tag));
    expect(await storage.getJob(olds[0]!.id)).toMatchObject({
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
    });
    // A new job of priority 1 goes first, though it is the youngest; then the old ones in order.
    const urgent = newJob({ name, priority: 1, runAt: T0 });
    await storage.enqueue(urgent);
    const [first] = await storage.claim(flowClaimInput([name], [], { limit: 1 }));
    expect(first).toMatchObject({ id: urgent.id, priority: 1 });
    // The old jobs are one null-key group for a flow claim.
    const flow = await storage.claim(flowClaimInput([name], [{ name, concurrency: 2 }]));
    expect(flow.map((j) => j.id)).toEqual([olds[0]!.id]);
    expect(await storage.claim(flowClaimInput([name], []))).toMatchObject([{ id: olds[1]!.id }]);
  });

  it('every insert path stores priority, the keys and the trace context', async ({ task }) => {
    const schema = await freshSchema(task.name);
    const storage = await open(schema);
    const name = 'paths';
    const trace = (span: string) => JSON.stringify({ traceparent: span });
    const single = newJob({
      name,
      priority: -3,
      concurrencyKey: 'c',
      rateLimitKey: 'r',
      traceContext: trace('single'),
    });
    const leased = newJob({
      name,
      priority: 4,
      concurrencyKey: 'lc',
      rateLimitKey: null,
      traceContext: trace('leased'),
    });
    // Uniform batches: all fields shared, and each of them varying per job.
    const shared = [1, 2].map(() =>
      newJob({
        name: 'uniform',
        priority: 7,
        concurrencyKey: 'u',
        rateLimitKey: 'v',
        traceContext: trace('one span'),
      }),
    );
    const varying = [0, 1, 2].map((i) =>
      newJob({
        name: 'varying',
        priority: i,
        concurrencyKey: i === 0 ? null : `c${i}`,
        rateLimitKey: i === 2 ? null : `r${i}`,
        traceContext: i === 1 ? null : trace(`span ${i}`),
      }),
    );
    // A keyed batch takes the JSON path.
    const keyed = [
      newJob({
        name,
        idempotencyKey: 'k',
        priority: 9,
        rateLimitKey: 'kr',
        traceContext: trace('keyed'),
      }),
    ];
    await storage.enqueue(single);
    await storage.enqueue(leased, {
      lease: { ownerId: 'w', leaseToken: 't', leaseExpiresAt: T0 + 1_000 },
    });
    const results = [
      ...(await storage.enqueueMany(shared)),
      ...(await storage.enqueueMany(varying)),
      ...(await storage.enqueueMany(keyed)),
    ];
    for (const job of [single, leased, ...shared, ...varying, ...keyed]) {
      const stored = await storage.getJob(job.id);
      expect(stored, job.name).toMatchObject({
        priority: job.priority,
        concurrencyKey: job.concurrencyKey,
        rateLimitKey: job.rateLimitKey,
        traceContext: job.traceContext,
      });
    }
    for (const [i, result] of results.entries()) {
      const job = [...shared, ...varying, ...keyed][i]!;
      expect(result.job).toMatchObject({
        priority: job.priority,
        concurrencyKey: job.concurrencyKey,
        traceContext: job.traceContext,
      });
    }
    // A schedule's fire inserts through enqueueMany, in the fire's transaction.
    const { schedule } = await storage.upsertSchedule({
      id: 's',
      name,
      cron: '* * * * *',
      timezone: 'UTC',
      args: '[]',
      catchUp: 'latest',
      overlap: 'allow',
      catchUpWindowMs: 0,
      nextRunAt: T0,
      now: T0,
    });
    const tick = newJob({
      name,
      scheduleId: schedule.id,
      idempotencyKey: 'tick',
      priority: 2,
      traceContext: trace('tick'),
    });
    await storage.fireSchedule({
      id: schedule.id,
      claim: { expectedNextRunAt: T0, nextRunAt: T0 + 60_000 },
      jobs: [tick],
      now: T0,
    });
    expect(await storage.getJob(tick.id)).toMatchObject({
      priority: 2,
      scheduleId: 's',
      traceContext: tick.traceContext,
    });
  });

  it('an idle claim reads neither the 100,000 jobs not due yet nor the 100,000 waiting ones', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = await open(schema);
    const name = 'idle';
    // Delayed jobs at the default and at a high priority, and long waits in between: under
    // an index in (priority, run_at) order, each is before the due range of lower levels.
    await insertRows(schema, 50_000, { name, status: 'pending', runAt: `${T0} + 3600000 + g` });
    await insertRows(schema, 50_000, {
      name,
      status: 'pending',
      runAt: `${T0} + 60000 + g`,
      priority: 'g % 3 + 5',
    });
    await insertRows(schema, 100_000, {
      name,
      status: 'waiting',
      runAt: `${T0} + 86400000 + g`,
      priority: 3,
    });
    await adminQuery(`VACUUM ANALYZE "${schema}".jobs`);
    const idle = await claimPlan(schema, { now: T0, names: [name], limit: 10 });
    expect(idle.updated).toBe(0);
    expect(idle.text).not.toMatch(/Sort|Bitmap|Seq Scan/);
    // A handful of probes per priority level (five levels here); 200,000 index entries fill
    // more than a thousand pages.
    expect(idle.buffers).toBeLessThan(50);
    // With a due job at the lowest level, under all of them: found, at the same cost.
    const due = newJob({ name, priority: -1, runAt: T0 - 1 });
    await storage.enqueue(due);
    const one = await claimPlan(schema, { now: T0, names: [name], limit: 10 });
    expect(one.updated).toBe(1);
    expect(one.buffers).toBeLessThan(100);
    expect((await storage.claim(flowClaimInput([name], [])))[0]?.id).toBe(due.id);

    // A flow claim of the same name, whose 100,000 waiting jobs each have their own
    // concurrency key: the due scan sees no due row, so no cell is walked.
    await adminQuery(
      `UPDATE "${schema}".jobs SET concurrency_key = 'user-' || id WHERE status = 'waiting'`,
    );
    await adminQuery(`VACUUM ANALYZE "${schema}".jobs`);
    const flow = await buffersTouched(
      schema,
      `SELECT * FROM "${schema}".claim_jobs_flow($1, ARRAY['idle'], 10, 'w', 't', $2,
         ARRAY['idle'], ARRAY[1], ARRAY[NULL]::integer[], ARRAY[NULL]::bigint[])`,
      [T0, T0 + LEASE_MS],
    );
    expect(flow.rows).toEqual([]);
    expect(flow.buffers.jobs_due_flow_idx ?? 0).toBe(0);
    // The due scan: a few probes per priority level, as the plain claim's.
    expect(flow.buffers.jobs_due_priority_idx).toBeLessThan(50);
    expect(Object.values(flow.buffers).reduce((a, b) => a + b, 0)).toBeLessThan(100);
  });

  it('a flow claim whose due scan runs out on a full group with a long backlog still finds every other group', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = await open(schema);
    const name = 'backlog';
    const rules = [{ name, concurrency: 1 }];
    // The full group: one running, 20,000 due behind it, older than anything else.
    await insertRows(schema, 2_000, {
      name,
      status: 'pending',
      runAt: `${T0} - 100000 + g`,
      key: "'big'",
    });
    const [running] = await storage.claim(flowClaimInput([name], rules, { limit: 1 }));
    expect(running?.concurrencyKey).toBe('big');
    // Plain jobs of another name, due before the small groups: the scan's budget is spent on
    // them too.
    await insertRows(schema, 500, { name: 'plain', status: 'pending', runAt: `${T0} - 50000 + g` });
    const small = Array.from({ length: 5 }, (_, i) =>
      newJob({ name, concurrencyKey: `s${i}`, runAt: T0 - 10 + i, createdAt: T0 - 10 + i }),
    );
    await storage.enqueueMany(small);
    const { rows, buffers } = await buffersTouched(
      schema,
      `SELECT (f.o_job).id, f.o_ready_name FROM "${schema}".claim_jobs_flow($1, ARRAY['backlog'],
         10, 'w', 't', $2, ARRAY['backlog'], ARRAY[1], ARRAY[NULL]::integer[],
         ARRAY[NULL]::bigint[]) AS f`,
      [T0, T0 + LEASE_MS],
    );
    expect(
      rows
        .filter((r) => r.id !== null)
        .map((r) => r.id)
        .sort(),
    ).toEqual(small.map((j) => j.id).sort());
    // The walk read a few entries per cell, not the big group's backlog (its 20,000 entries
    // fill over 100 pages of that index).
    expect(buffers.jobs_due_flow_idx).toBeLessThan(80);
    // Through the adapter, with plain names in the same claim: the plain jobs and the small
    // groups share the claim by the contract's order (the plain ones are older).
    const both = await storage.claim(flowClaimInput([name, 'plain'], rules, { limit: 4 }));
    expect(both.map((j) => j.name)).toEqual(['plain', 'plain', 'plain', 'plain']);
  });

  it('a flow claim leases through the primary key even when the statistics say nothing is pending', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    await open(schema);
    const name = 'burst';
    // Statistics taken over finished jobs only, then a burst of 4,000 due jobs over 100 keys
    // that no ANALYZE has seen: the state of a busy table between two autovacuum runs, and of
    // a fresh one. 0006's lease statement was planned over the whole due index then.
    await adminQuery(
      `INSERT INTO "${schema}".jobs (id, name, status, args, policy, max_attempts, created_at,
         run_at, completed_at)
       SELECT gen_random_uuid(), $1, 'success', '[]', '{}', 1, ${T0}, ${T0}, ${T0}
       FROM generate_series(1, 20000)`,
      [name],
    );
    await adminQuery(`VACUUM ANALYZE "${schema}".jobs`);
    await insertRows(schema, 4_000, {
      name,
      status: 'pending',
      runAt: `${T0} - 10000 + g`,
      key: `'k' || (g % 100)`,
    });
    const { rows, buffers } = await buffersTouched(
      schema,
      `SELECT (f.o_job).id FROM "${schema}".claim_jobs_flow($1, ARRAY[$3], 10, 'w', 't', $2,
         ARRAY[$3], ARRAY[2], ARRAY[NULL]::integer[], ARRAY[NULL]::bigint[]) AS f
       WHERE f.o_order IS NOT NULL`,
      [T0, T0 + LEASE_MS, name],
    );
    expect(rows).toHaveLength(10);
    // Ten keys' first jobs: the due scan, ten cells' reads and ten leases, a few hundred
    // buffers at most. Read whole, the due indexes and their 4,000 rows took over 4,000.
    const total = Object.values(buffers).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThan(600);
  });

  it('claims of a rate-limited name delete the starts that every window has left, of groups that start nothing more too', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const storage = await open(schema);
    const rules: FlowRule[] = [{ name: 'rated', rateLimit: { limit: 5, periodMs: 60_000 } }];
    const startsOf = async (name: string): Promise<number[]> =>
      (
        await adminQuery(
          `SELECT started_at FROM "${schema}".rate_limit_starts WHERE name = $1 ORDER BY 1`,
          [name],
        )
      ).rows.map((row) => Number(row.started_at));
    // 100 keys used once, an hour ago, and one key's starts still in the window; another
    // name's old starts, which this name's claims know no rule for.
    await adminQuery(
      `INSERT INTO "${schema}".rate_limit_starts (name, key, started_at)
       SELECT 'rated', 'user-' || g, ${T0} - 3600000 + g FROM generate_series(1, 100) AS g
       UNION ALL SELECT 'rated', 'busy', ${T0} - 1000
       UNION ALL SELECT 'other', 'k', ${T0} - 3600000`,
    );
    // Claims that find no job: the sweep does not depend on starting one. A few per claim.
    await storage.claim(flowClaimInput(['rated'], rules));
    expect(await startsOf('rated')).toHaveLength(101 - 64);
    await storage.claim(flowClaimInput(['rated'], rules));
    expect(await startsOf('rated')).toEqual([T0 - 1000]);
    expect(await startsOf('other')).toEqual([T0 - 3600000]);
    // The start still in the window counts: four more, not five, start in its group.
    await storage.enqueueMany(
      Array.from({ length: 6 }, () => newJob({ name: 'rated', rateLimitKey: 'busy' })),
    );
    expect(await storage.claim(flowClaimInput(['rated'], rules))).toHaveLength(4);
  });

  it('parallel claims that each delete left-over starts of the same groups neither wait for each other nor exceed a window', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const claimers = await Promise.all(Array.from({ length: 6 }, () => open(schema, 1)));
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    await claimers[0]!.enqueueMany(
      keys.flatMap((key) =>
        Array.from({ length: 10 }, (_, i) =>
          newJob({ name: 'rated', rateLimitKey: key, runAt: T0 - 100 + i }),
        ),
      ),
    );
    // A window of 5 ms and rounds 10 ms apart: every round finds the last round's starts out of
    // the window, and every claimer deletes them, its own groups' and any group's, at once.
    const rules: FlowRule[] = [{ name: 'rated', rateLimit: { limit: 2, periodMs: 5 } }];
    let total = 0;
    for (let round = 0; round < 10; round++) {
      const now = T0 + 10 * round;
      const batches = await Promise.all(
        claimers.map((claimer) =>
          claimer.claim(flowClaimInput(['rated'], rules, { now, limit: 8 })),
        ),
      );
      const perKey = new Map<string | null, number>();
      for (const job of batches.flat()) {
        perKey.set(job.rateLimitKey, (perKey.get(job.rateLimitKey) ?? 0) + 1);
      }
      expect(Math.max(...perKey.values())).toBeLessThanOrEqual(2);
      total += batches.flat().length;
    }
    expect(total).toBeGreaterThan(0);
    // What the windows no longer count is gone but for the last round's starts.
    const { rows } = await adminQuery(
      `SELECT count(*)::int AS n FROM "${schema}".rate_limit_starts WHERE started_at < $1`,
      [T0 + 90],
    );
    expect(rows[0].n).toBe(0);
  });

  it('8 connections claiming in parallel, round after round, never run more than 2 jobs of a key, nor start more than 3 of a key in a window', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    const claimers = await Promise.all(Array.from({ length: 8 }, () => open(schema, 1)));
    const storage = claimers[0]!;
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const limited = 'limited';
    const rated = 'rated';
    for (const name of [limited, rated]) {
      await storage.enqueueMany(
        keys.flatMap((key) =>
          Array.from({ length: 15 }, (_, i) =>
            newJob({ name, concurrencyKey: key, rateLimitKey: key, runAt: T0 - 100 + i }),
          ),
        ),
      );
    }
    const rules: FlowRule[] = [
      { name: limited, concurrency: 2 },
      { name: rated, rateLimit: { limit: 3, periodMs: 1_000_000 } },
    ];
    let running: JobRecord[] = [];
    let claimedTotal = 0;
    for (let round = 0; round < 30; round++) {
      const now = T0 + round;
      // Meanwhile, jobs of a higher priority than any before land in a few keys: claims that
      // read before and after their commit see different first jobs in a group, so their
      // candidates differ and row locks alone (SKIP LOCKED on the same first rows) would no
      // longer keep them apart; only the group lock and the count after it do.
      const urgent = [0, 1, 2].map((i) =>
        newJob({
          name: limited,
          concurrencyKey: keys[(round * 3 + i) % keys.length],
          priority: round + 1,
        }),
      );
      const [, ...batches] = await Promise.all([
        Promise.all(urgent.map((job) => storage.enqueue(job))),
        ...claimers.map((claimer, i) =>
          claimer.claim(
            flowClaimInput([limited, rated], rules, { now, limit: 3, ownerId: `w${i}` }),
          ),
        ),
      ]);
      claimedTotal += batches.flat().length;
      running.push(...batches.flat());
      // Every claim of the round has committed: the database must be within both rules.
      const over = await adminQuery(
        `SELECT name, concurrency_key, count(*)::int AS n FROM "${schema}".jobs
         WHERE name = $1 AND status = 'running' AND lease_expires_at >= $2
         GROUP BY 1, 2 HAVING count(*) > 2
         UNION ALL
         SELECT name, key, count(*)::int FROM "${schema}".rate_limit_starts
         WHERE name = $3 GROUP BY 1, 2 HAVING count(*) > 3
         UNION ALL
         SELECT name, rate_limit_key, count(*)::int FROM "${schema}".jobs
         WHERE name = $3 AND status <> 'pending' GROUP BY 1, 2 HAVING count(*) > 3`,
        [limited, now, rated],
      );
      expect(over.rows).toEqual([]);
      // Half of the limited jobs end, so the next round has slots to race for again.
      const ending = running.filter((job, i) => job.name === limited && (i + round) % 2 === 0);
      running = running.filter((job) => !ending.includes(job));
      await storage.ackMany(
        ending.map((job) => ({ ...fenceOf(job), kind: 'success', result: 'null', now })),
      );
    }
    // Rate: 3 starts per key in the window, all taken. Concurrency: work went on throughout.
    const started = await adminQuery(
      `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE name = $1 AND status <> 'pending'`,
      [rated],
    );
    expect(started.rows[0].n).toBe(keys.length * 3);
    expect(claimedTotal).toBeGreaterThan(keys.length * 3 + keys.length * 2);
  });

  it('gives the answers of the reference plan (planFlowClaim, through MemoryStorage) over random sequences', async ({
    task,
  }) => {
    const schema = await freshSchema(task.name);
    for (let seed = 1; seed <= 6; seed++) {
      await dropSchema(schema);
      const postgres = await open(schema);
      const memory = new MemoryStorage();
      await memory.init();
      await compareWithReference(seed, postgres, memory, {
        jobs: 60,
        keys: ['a', 'b', 'c'],
        maxLimit: 6,
      });
      await memory.close();
    }
  });
});
