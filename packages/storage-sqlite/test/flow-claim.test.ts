import {
  compareWithReference,
  flowClaimInput,
  LEASE_MS,
  newJob,
  T0,
  timeOrderedId,
} from '@reseolio/storage-contract';
import { type FlowRule, MemoryStorage, type NewJob, type StorageEvent } from 'reseolio/storage';
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
      const first = await storage.claim(
        flowClaimInput([name], rules, { limit: 1, ownerId: 'first' }),
      );
      expect(first.map((job) => job.concurrencyKey)).toEqual(['a']);
    }
    const events: StorageEvent[] = [];
    await storage.subscribe((event) => events.push(event));
    const claimed = await storage.claim(flowClaimInput([name], rules, { now: T0 + 1 }));
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
    const claimed = await storage.claim(flowClaimInput([name], rules, { limit: 2 }));
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
      const input = flowClaimInput([name], rules, { now: T0 + step, limit: 10 });
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
      await compareWithReference(seed, sqlite, memory, {
        // Odd seeds: a backlog larger than the discovery scan's budget; even ones: smaller.
        jobs: seed % 2 === 1 ? 200 : 25,
        keys: ['a', 'b', 'c', 'd', 'e'],
        maxLimit: 12,
      });
    }
  });
});
