import {
  fenceOf,
  LEASE_MS,
  newJob,
  newLeaseToken,
  T0,
  timeOrderedId,
} from '@reseolio/storage-contract';
import {
  type ClaimInput,
  type FlowRule,
  type JobRecord,
  MemoryStorage,
  type NewJob,
  type StorageAdapter,
  type StorageEvent,
} from 'reseolio/storage';
import { describe, expect, it } from 'vitest';
import { createSqliteStorage, type SqliteStorage } from '../src/index.ts';
import { useCleanups } from './cleanups.ts';

const { cleanups, tempFile } = useCleanups();

async function open(): Promise<SqliteStorage> {
  const storage = createSqliteStorage({ filename: tempFile() });
  cleanups.push(() => storage.close());
  await storage.init();
  return storage;
}

function claimInput(
  names: readonly string[],
  flow: readonly FlowRule[],
  options: { limit?: number; now?: number; ownerId?: string; leaseExpiresAt?: number } = {},
): ClaimInput {
  const { limit = 10, now = T0, ownerId = 'w' } = options;
  const leaseExpiresAt = options.leaseExpiresAt ?? now + LEASE_MS;
  return { names, flow, limit, now, ownerId, leaseToken: newLeaseToken(), leaseExpiresAt };
}

/** `count` due jobs of `name` and concurrency key `key`, one ms apart from `from` on. */
function keyed(name: string, key: string, count: number, from: number, priority = 0): NewJob[] {
  return Array.from({ length: count }, (_, i) => {
    const createdAt = from + i;
    return {
      ...newJob({ name, createdAt, runAt: createdAt, priority, concurrencyKey: key }),
      id: timeOrderedId(createdAt),
    };
  });
}

describe('the flow claim’s discovery scan', () => {
  it('falls back to the walk of every pair when the scanned jobs all belong to a full group', async () => {
    const storage = await open();
    const name = 'full-first';
    const rules: FlowRule[] = [{ name, concurrency: 2 }];
    // Key a at its limit, with 5,000 jobs waiting in front of key b's 10.
    await storage.enqueueMany([
      ...keyed(name, 'a', 5_002, T0 - 100_000),
      ...keyed(name, 'b', 10, T0 - 10),
    ]);
    for (let i = 0; i < 2; i++) {
      const first = await storage.claim(claimInput([name], rules, { limit: 1, ownerId: 'first' }));
      expect(first.map((job) => job.concurrencyKey)).toEqual(['a']);
    }
    const events: StorageEvent[] = [];
    await storage.subscribe((event) => events.push(event));
    const claimed = await storage.claim(claimInput([name], rules, { now: T0 + 1 }));
    expect(claimed.map((job) => job.concurrencyKey)).toEqual(['b', 'b']);
    // Short of its limit: a's jobs were left behind by its rule, announced for its lease's end.
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.filter((event) => event.type === 'ready')).toContainEqual({
      type: 'ready',
      name,
      runAt: T0 + LEASE_MS + 1,
    });
  });

  it('lets an unseen job of round 1 go before a scanned job of round 2 at the same priority', async () => {
    const storage = await open();
    const name = 'rounds';
    const rules: FlowRule[] = [{ name, concurrency: 2 }];
    // g's first job at priority 5, then g's at priority 0 fill the scan; k's one job comes
    // after them in claim order (later run_at), past the scan's budget.
    const g = [...keyed(name, 'g', 1, T0 - 1_000, 5), ...keyed(name, 'g', 40, T0 - 900)];
    const k = keyed(name, 'k', 1, T0 - 10);
    await storage.enqueueMany([...g, ...k]);
    const claimed = await storage.claim(claimInput([name], rules, { limit: 2 }));
    // Priority first, then round 1 of every group before round 2: g's priority-5 job, then k.
    expect(claimed.map((job) => job.id)).toEqual([g[0]!.id, k[0]!.id]);
  });

  it('takes a full claim from the first jobs in claim order, one per group in round 1', async () => {
    const storage = await open();
    const name = 'spread';
    const rules: FlowRule[] = [{ name, concurrency: 2 }];
    const jobs: NewJob[] = [];
    for (let i = 0; i < 400; i++) {
      const createdAt = T0 - 10_000 + i;
      jobs.push({
        ...newJob({ name, createdAt, runAt: createdAt, concurrencyKey: `key-${i % 100}` }),
        id: timeOrderedId(createdAt),
      });
    }
    await storage.enqueueMany(jobs);
    const memory = new MemoryStorage();
    await memory.init();
    cleanups.push(() => memory.close());
    await memory.enqueueMany(jobs);
    for (let step = 0; step < 30; step++) {
      const input = claimInput([name], rules, { now: T0 + step, limit: 10 });
      const fromSqlite = await storage.claim(input);
      const fromMemory = await memory.claim(input);
      expect(
        fromSqlite.map((job) => job.id),
        `step ${step}`,
      ).toEqual(fromMemory.map((job) => job.id));
    }
  });

  it('gives the answers of the reference plan (planFlowClaim, through MemoryStorage) over random sequences', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const sqlite = await open();
      const memory = new MemoryStorage();
      await memory.init();
      cleanups.push(() => memory.close());
      await compareWithReference(seed, sqlite, memory);
    }
  });
});

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The same jobs, claims and outcomes on both adapters; every claim must take the same jobs in
 * the same order and, when it comes back short, announce the same ready times. Odd seeds use
 * a backlog larger than the discovery scan's budget, even ones a smaller one.
 */
async function compareWithReference(
  seed: number,
  sqlite: StorageAdapter,
  memory: StorageAdapter,
): Promise<void> {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const names = ['conc', 'rate', 'both', 'plain'];
  const rules: FlowRule[] = [
    { name: 'conc', concurrency: 2 },
    { name: 'rate', rateLimit: { limit: 2, periodMs: 700 } },
    { name: 'both', concurrency: 1, rateLimit: { limit: 3, periodMs: 1_500 } },
  ];
  const jobs: NewJob[] = [];
  const count = seed % 2 === 1 ? 200 : 25;
  for (let i = 0; i < count; i++) {
    const name = pick(names);
    const key = pick(['a', 'b', 'c', 'd', 'e', null]);
    const createdAt = T0 - 2_000 + Math.floor(rnd() * 3_000);
    jobs.push({
      ...newJob({ name, createdAt, runAt: createdAt, priority: pick([0, 0, 0, 1, 5, -2]) }),
      id: timeOrderedId(createdAt),
      concurrencyKey: name === 'rate' ? null : key,
      rateLimitKey: name === 'conc' ? null : key,
    });
  }
  // Ties of created_at are read in insertion order here, in id order by the reference.
  jobs.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await sqlite.enqueueMany(jobs);
  await memory.enqueueMany(jobs);
  const logs = await Promise.all(
    [sqlite, memory].map(async (storage) => {
      const events: StorageEvent[] = [];
      await storage.subscribe((event) => events.push(event));
      return events;
    }),
  );
  let running: JobRecord[] = [];
  for (let step = 0; step < 40; step++) {
    const now = T0 + step * 50;
    const limit = 1 + Math.floor(rnd() * 12);
    const input = claimInput(names, rules, {
      now,
      limit,
      leaseExpiresAt: now + 100 + Math.floor(rnd() * 900),
    });
    for (const log of logs) log.length = 0;
    const fromSqlite = await sqlite.claim(input);
    const fromMemory = await memory.claim(input);
    await new Promise((resolve) => setImmediate(resolve));
    const what = `seed ${seed}, step ${step}, limit ${limit}`;
    expect(
      fromSqlite.map((j) => j.id),
      what,
    ).toEqual(fromMemory.map((j) => j.id));
    if (fromSqlite.length < limit) {
      const ready = (events: StorageEvent[]) =>
        events.filter((e) => e.type === 'ready').sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(ready(logs[0]!), what).toEqual(ready(logs[1]!));
    }
    running.push(...fromSqlite);
    // Some of what runs ends (success or retry), the same on both.
    const ending = running.filter(() => rnd() < 0.4);
    running = running.filter((job) => !ending.includes(job));
    for (const job of ending) {
      const ack =
        rnd() < 0.7
          ? ({ ...fenceOf(job), kind: 'success', result: 'null', now } as const)
          : ({ ...fenceOf(job), kind: 'retry', error: '{}', runAt: now + 30, now } as const);
      expect(await sqlite.ack(ack), what).toBe(true);
      expect(await memory.ack(ack), what).toBe(true);
    }
  }
}
