/**
 * Nodes whose clocks disagree, on one PostgreSQL: the engine times leases, sweeps and due
 * jobs by the database's clock, so a node with a wrong clock changes nothing.
 */
import { type Clock, Reseolio, type StorageAdapter } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { freshPostgresDatabase, onCleanup, waitFor } from './helpers.ts';

const skewedBy = (ms: number): Clock => ({ now: () => Date.now() + ms });
const quiet = { ...console, debug() {}, info() {}, warn() {} };

/** Counts the adapter's sweeps and claims, so a test can wait for several to have happened. */
function counted(adapter: StorageAdapter) {
  const calls = { sweeps: 0, claims: 0 };
  // Every sweep starts by listing the expired leases.
  const list = adapter.listExpiredLeases.bind(adapter);
  const claim = adapter.claim.bind(adapter);
  adapter.listExpiredLeases = async (input) => {
    const result = await list(input);
    calls.sweeps += 1;
    return result;
  };
  adapter.claim = async (input) => {
    const result = await claim(input);
    calls.claims += 1;
    return result;
  };
  return calls;
}

function engine(storage: StorageAdapter, options: object, clock?: Clock): Reseolio {
  const reseolio = new Reseolio(
    { storage, pollIntervalMs: 50, logger: quiet, ...options },
    ...(clock ? [clock] : []),
  );
  onCleanup(() => reseolio.stop({ timeoutMs: 500 }));
  return reseolio;
}

describe('clock skew between nodes (PostgreSQL)', () => {
  for (const skew of [40_000, -40_000]) {
    const label = skew > 0 ? '40 s ahead' : '40 s behind';

    it(`a node ${label} neither sweeps a lease another node holds nor loses its own`, async () => {
      const open = freshPostgresDatabase();
      const holderStorage = open() as StorageAdapter;
      const skewedStorage = open() as StorageAdapter;
      const skewedCalls = counted(skewedStorage);
      const holderCalls = counted(holderStorage);
      const runs: string[] = [];
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const handler = (node: string) => async (id: number) => {
        runs.push(`${node} ${id}`);
        await released;
        return node;
      };
      // Leases of 10 s, swept every 5 s: a 40 s disagreement shows at the first sweep, and a
      // busy CI machine cannot stall a heartbeat (every 3.3 s) long enough to lose one.
      const holder = engine(holderStorage, { leaseMs: 10_000, workerConcurrency: 4 });
      const skewed = engine(
        skewedStorage,
        { leaseMs: 10_000, workerConcurrency: 4 },
        skewedBy(skew),
      );
      const fnHolder = holder.durable('skew:lease', handler('holder'));
      skewed.durable('skew:lease', handler('skewed'));
      await holder.start();
      const handles = await Promise.all([1, 2, 3].map((id) => fnHolder(id)));
      await waitFor(() => runs.length === 3);
      await skewed.start();
      // The skewed node sweeps at start and again 5 s later while the holder holds 3 leases.
      let sweeps = { skewed: skewedCalls.sweeps, holder: holderCalls.sweeps };
      await waitFor(() => skewedCalls.sweeps >= sweeps.skewed + 2);
      // Jobs the skewed node claims (the holder has one slot left): the holder sweeps while
      // the skewed node holds their leases.
      const more = await Promise.all([4, 5, 6].map((id) => fnHolder(id)));
      await waitFor(() => runs.length >= 6);
      expect(runs.filter((run) => run.startsWith('skewed'))).not.toHaveLength(0);
      sweeps = { skewed: skewedCalls.sweeps, holder: holderCalls.sweeps };
      await waitFor(
        () => skewedCalls.sweeps >= sweeps.skewed + 1 && holderCalls.sweeps >= sweeps.holder + 1,
      );
      release();
      for (const handle of [...handles, ...more]) await handle.result(10_000);
      // Each job ran once, and on its first attempt.
      expect(runs, JSON.stringify(runs)).toHaveLength(6);
      for (const handle of [...handles, ...more]) {
        expect((await handle.details()).attempt).toBe(1);
      }
    });

    it(`a node ${label} runs a delayed job at its time, not 40 s off`, async () => {
      const open = freshPostgresDatabase();
      const skewedStorage = open() as StorageAdapter;
      const calls = counted(skewedStorage);
      const producer = engine(open() as StorageAdapter, { workerConcurrency: 0 });
      const skewed = engine(skewedStorage, {}, skewedBy(skew));
      const ranAt: number[] = [];
      skewed.durable('skew:delayed', async () => {
        ranAt.push(Date.now());
      });
      const fn = producer.durable('skew:delayed', async () => {});
      await skewed.start();
      const early = await fn.enqueue([], { delayMs: 20_000 });
      const enqueuedAt = Date.now();
      const soon = await fn.enqueue([], { delayMs: 500 });
      // The one due soon runs (so the node is claiming), the one due in 20 s does not.
      await soon.result(15_000);
      const claims = calls.claims;
      await waitFor(() => calls.claims >= claims + 5);
      expect(await early.status()).toBe('pending');
      expect(ranAt).toHaveLength(1);
      expect(ranAt[0]! - enqueuedAt).toBeGreaterThanOrEqual(450);
    });
  }
});
