import type { ClaimInput, FlowRule, JobRecord, StorageAdapter } from 'reseolio/storage';
import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  fenceOf,
  LEASE_MS,
  mustGet,
  newJob,
  newLeaseToken,
  OTHER_OWNER,
  OWNER,
  T0,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

/** One claim at `now` with the given rules. */
function claimWith(
  storage: StorageAdapter,
  names: readonly string[],
  flow: readonly FlowRule[],
  {
    limit = 100,
    now = T0,
    ownerId = OWNER,
    leaseExpiresAt = now + LEASE_MS,
  }: { limit?: number; now?: number; ownerId?: string; leaseExpiresAt?: number } = {},
): Promise<JobRecord[]> {
  const input: ClaimInput = {
    names,
    flow,
    ownerId,
    leaseToken: newLeaseToken(),
    limit,
    now,
    leaseExpiresAt,
  };
  return storage.claim(input);
}

/** Enqueues `count` due jobs of `name` and `key` (concurrency and rate key), oldest first. */
async function enqueueKeyed(
  storage: StorageAdapter,
  name: string,
  key: string | null,
  count: number,
  { runAt = T0 - 1_000, rateLimitKey = key }: { runAt?: number; rateLimitKey?: string | null } = {},
): Promise<string[]> {
  const jobs = Array.from({ length: count }, (_, i) =>
    newJob({ name, concurrencyKey: key, rateLimitKey, runAt: runAt + i, createdAt: runAt + i }),
  );
  await storage.enqueueMany(jobs);
  return jobs.map((job) => job.id);
}

function countBy(jobs: readonly JobRecord[], key: (job: JobRecord) => string | null) {
  const counts: Record<string, number> = {};
  for (const job of jobs) {
    const k = String(key(job));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/**
 * Priorities, and the flow rules a claim enforces (`ClaimInput.flow`): per-group concurrency
 * and rate limits counted across processes, fair rounds among groups, and the `ready`
 * announcement for jobs a rule left behind.
 */
export function flowSuite({ test, capabilities }: ContractContext): void {
  describe('priority', () => {
    test('claim takes higher priorities first, then the oldest runAt, then creation order', async ({
      storage,
    }) => {
      const name = uniqueName();
      const oldLow = newJob({ name, runAt: T0 - 300, createdAt: T0 - 300 });
      const newHigh = newJob({ name, priority: 10, runAt: T0 - 100, createdAt: T0 - 100 });
      const oldHigh = newJob({ name, priority: 10, runAt: T0 - 200, createdAt: T0 - 200 });
      const negative = newJob({ name, priority: -5, runAt: T0 - 400, createdAt: T0 - 400 });
      const max = newJob({ name, priority: 2_147_483_647, runAt: T0, createdAt: T0 });
      const future = newJob({ name, priority: 99, runAt: T0 + 1, createdAt: T0 });
      for (const job of [oldLow, newHigh, oldHigh, negative, max, future]) {
        await storage.enqueue(job);
      }
      expect(await storage.getJob(max.id)).toMatchObject({ priority: 2_147_483_647 });
      const order: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [job] = await claimWith(storage, [name], [], { limit: 1 });
        order.push(job!.id);
      }
      expect(order).toEqual([max.id, oldHigh.id, newHigh.id, oldLow.id, negative.id]);
      expect(await claimWith(storage, [name], [])).toEqual([]);
    });

    test('one claim over several names orders by priority across names', async ({ storage }) => {
      const low = newJob({ runAt: T0 - 500 });
      const high = newJob({ priority: 1, runAt: T0 });
      await storage.enqueue(low);
      await storage.enqueue(high);
      const [first] = await claimWith(storage, [low.name, high.name], [], { limit: 1 });
      expect(first!.id).toBe(high.id);
    });
  });

  describe.skipIf(!capabilities.flowControl)('flow rules', () => {
    test('capabilities.flowControl is a boolean', async ({ storage }) => {
      expect(typeof storage.capabilities.flowControl).toBe('boolean');
    });

    test('concurrency: at most the limit per key, counting jobs already running; other keys and names are not held back', async ({
      storage,
    }) => {
      const name = uniqueName('limited');
      const free = uniqueName('free');
      await enqueueKeyed(storage, name, 'a', 5);
      await enqueueKeyed(storage, name, 'b', 5, { runAt: T0 - 500 });
      await enqueueKeyed(storage, free, 'a', 3);
      const rules = [{ name, concurrency: 2 }];

      const first = await claimWith(storage, [name, free], rules);
      expect(
        countBy(first, (j) => `${j.name === name ? 'limited' : 'free'}:${j.concurrencyKey}`),
      ).toEqual({
        'limited:a': 2,
        'limited:b': 2,
        'free:a': 3,
      });
      expect(await claimWith(storage, [name], rules, { now: T0 + 1 })).toEqual([]);

      // One of a's slots frees: exactly one more of a, none of b.
      const endedA = first.find((j) => j.concurrencyKey === 'a' && j.name === name)!;
      expect(
        await storage.ack({ ...fenceOf(endedA), kind: 'success', result: 'null', now: T0 + 2 }),
      ).toBe(true);
      const second = await claimWith(storage, [name], rules, { now: T0 + 3 });
      expect(second.map((j) => j.concurrencyKey)).toEqual(['a']);
    });

    test('concurrency: null keys are one group; the same key of another name is another group', async ({
      storage,
    }) => {
      const name = uniqueName();
      const other = uniqueName();
      await enqueueKeyed(storage, name, null, 4);
      await enqueueKeyed(storage, other, null, 4);
      const claimed = await claimWith(
        storage,
        [name, other],
        [
          { name, concurrency: 1 },
          { name: other, concurrency: 3 },
        ],
      );
      expect(countBy(claimed, (j) => j.name)).toEqual({ [name]: 1, [other]: 3 });
    });

    test('concurrency: an expired lease holds no slot, a waiting job holds none, a job of another status none', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, concurrency: 1 }];
      await enqueueKeyed(storage, name, 'k', 3);
      const [held] = await claimWith(storage, [name], rules, { leaseExpiresAt: T0 + 100 });
      expect(held).toBeDefined();
      expect(await claimWith(storage, [name], rules, { now: T0 + 100 })).toEqual([]);
      // At T0 + 101 the lease has lapsed (it holds while now <= leaseExpiresAt): the slot is free.
      const [next] = await claimWith(storage, [name], rules, {
        now: T0 + 101,
        ownerId: OTHER_OWNER,
      });
      expect(next).toBeDefined();
      // The next one suspends: waiting, it holds no slot.
      expect(
        await storage.ack({
          ...fenceOf(next!),
          kind: 'suspend',
          attempt: 0,
          runAt: T0 + 60_000,
          waitingFor: '{"kind":"sleep"}',
          wake: { kind: 'time' },
          now: T0 + 102,
        }),
      ).toBe(true);
      expect((await mustGet(storage, next!.id)).status).toBe('waiting');
      const [third] = await claimWith(storage, [name], rules, { now: T0 + 103 });
      expect(third).toBeDefined();
      expect(third!.id).not.toBe(next!.id);
    });

    test('rate limit: at most limit starts per key in any period, retries counted, other keys free', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, rateLimit: { limit: 3, periodMs: 1_000 } }];
      await enqueueKeyed(storage, name, 'a', 10);
      await enqueueKeyed(storage, name, 'b', 2);

      const atStart = await claimWith(storage, [name], rules);
      expect(countBy(atStart, (j) => j.rateLimitKey)).toEqual({ a: 3, b: 2 });
      // Each start holds its place in the window for the whole period: (now - 1000, now].
      expect(await claimWith(storage, [name], rules, { now: T0 + 999 })).toEqual([]);

      const afterWindow = await claimWith(storage, [name], rules, { now: T0 + 1_000 });
      expect(countBy(afterWindow, (j) => j.rateLimitKey)).toEqual({ a: 3 });
      expect(await claimWith(storage, [name], rules, { now: T0 + 1_500 })).toEqual([]);
      expect(await claimWith(storage, [name], rules, { now: T0 + 2_000 })).toHaveLength(3);
    });

    test('rate limit: a retried job that runs again is another start', async ({ storage }) => {
      const name = uniqueName();
      const rules = [{ name, rateLimit: { limit: 2, periodMs: 1_000 } }];
      const [id] = await enqueueKeyed(storage, name, 'k', 1);
      const retryAt = async (job: JobRecord, now: number) =>
        storage.ack({ ...fenceOf(job), kind: 'retry', error: '{}', runAt: now, now });
      const [first] = await claimWith(storage, [name], rules);
      await retryAt(first!, T0 + 1);
      const [second] = await claimWith(storage, [name], rules, { now: T0 + 2 });
      expect(second?.id).toBe(id);
      await retryAt(second!, T0 + 3);
      expect(await claimWith(storage, [name], rules, { now: T0 + 999 })).toEqual([]);
      const [third] = await claimWith(storage, [name], rules, { now: T0 + 1_000 });
      expect(third).toMatchObject({ id, attempt: 3 });
    });

    test('rate limit: a start stamped a little after now by a node whose clock runs ahead still counts', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, rateLimit: { limit: 2, periodMs: 1_000 } }];
      await enqueueKeyed(storage, name, null, 4);
      // A node 15 ms ahead takes both starts; a node on time claims right after.
      expect(await claimWith(storage, [name], rules, { now: T0 + 15 })).toHaveLength(2);
      expect(await claimWith(storage, [name], rules, { now: T0 })).toEqual([]);
      expect(await claimWith(storage, [name], rules, { now: T0 + 1_014 })).toEqual([]);
      expect(await claimWith(storage, [name], rules, { now: T0 + 1_015 })).toHaveLength(2);
    });

    test('rate limit and concurrency on one name: a job starts only when both allow', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, concurrency: 2, rateLimit: { limit: 3, periodMs: 1_000 } }];
      await enqueueKeyed(storage, name, 'k', 6);
      const first = await claimWith(storage, [name], rules);
      expect(first).toHaveLength(2);
      for (const job of first) {
        await storage.ack({ ...fenceOf(job), kind: 'success', result: 'null', now: T0 + 1 });
      }
      // Two slots free, but one start left in the window.
      expect(await claimWith(storage, [name], rules, { now: T0 + 2 })).toHaveLength(1);
    });

    test('a full rate group does not hold back another rate group within one concurrency group', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, concurrency: 5, rateLimit: { limit: 1, periodMs: 1_000 } }];
      // Older jobs of a rate group that allows one start, more of them than the claim's limit,
      // before the jobs of another rate group, all in concurrency group 'c'.
      await enqueueKeyed(storage, name, 'c', 10, { runAt: T0 - 10_000, rateLimitKey: 'r1' });
      await enqueueKeyed(storage, name, 'c', 2, { runAt: T0 - 100, rateLimitKey: 'r2' });
      const claimed = await claimWith(storage, [name], rules, { limit: 3 });
      expect(countBy(claimed, (j) => j.rateLimitKey)).toEqual({ r1: 1, r2: 1 });
    });

    test('fair rounds: a key with a long backlog does not go before the first jobs of other keys', async ({
      storage,
    }) => {
      const name = uniqueName();
      const rules = [{ name, concurrency: 100 }];
      const big = await enqueueKeyed(storage, name, 'big', 30, { runAt: T0 - 10_000 });
      const small = await enqueueKeyed(storage, name, 'small', 3, { runAt: T0 - 100 });
      const claimed = await claimWith(storage, [name], rules, { limit: 6 });
      expect(claimed.map((j) => j.id).sort()).toEqual([...big.slice(0, 3), ...small].sort());
    });

    test('a full group announces ready for its name at the earliest time a left-behind job could start', async ({
      storage,
    }) => {
      const limited = uniqueName();
      const rated = uniqueName();
      await enqueueKeyed(storage, limited, 'k', 3);
      await enqueueKeyed(storage, rated, 'k', 3);
      const rules = [
        { name: limited, concurrency: 2 },
        { name: rated, rateLimit: { limit: 2, periodMs: 5_000 } },
      ];
      await claimWith(storage, [limited], rules, { leaseExpiresAt: T0 + 700 });
      await claimWith(storage, [limited], rules, { now: T0 + 5, leaseExpiresAt: T0 + 900 });
      await claimWith(storage, [rated], rules, { now: T0 + 10 });

      const log = await recordEvents(storage);
      expect(await claimWith(storage, [limited, rated], rules, { now: T0 + 20 })).toEqual([]);
      await log.waitFor({ type: 'ready', name: limited, runAt: T0 + 701 });
      await log.waitFor({ type: 'ready', name: rated, runAt: T0 + 5_010 });
      await log.unsubscribe();
    });

    test('two instances claiming at once never exceed a group limit together', async ({
      storage,
      openAnother,
    }) => {
      const other = await openAnother();
      const name = uniqueName();
      const keys = ['a', 'b', 'c'];
      for (const key of keys) await enqueueKeyed(storage, name, key, 20);
      const rules = [{ name, concurrency: 2 }];
      const running: JobRecord[] = [];
      for (let round = 0; round < 5; round++) {
        const now = T0 + round * 10;
        const batches = await Promise.all(
          [storage, other, storage, other].map((s, i) =>
            claimWith(s, [name], rules, { now, limit: 4, ownerId: `w${i}` }),
          ),
        );
        running.push(...batches.flat());
        expect(Object.values(countBy(running, (j) => j.concurrencyKey)).every((n) => n <= 2)).toBe(
          true,
        );
        // Finish one job per key so the next round has room again.
        for (const key of keys) {
          const index = running.findIndex((j) => j.concurrencyKey === key);
          if (index === -1) continue;
          const [done] = running.splice(index, 1);
          await storage.ack({ ...fenceOf(done!), kind: 'success', result: 'null', now: now + 5 });
        }
      }
    });
  });
}
