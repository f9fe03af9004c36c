import type { FlowRule, JobRecord, NewJob, StorageAdapter, StorageEvent } from 'reseolio/storage';
import { expect } from 'vitest';
import { fenceOf, newJob, newLeaseToken, T0, timeOrderedId } from './fixtures.ts';

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface ReferenceScenario {
  /** Jobs enqueued before the claims (a backlog larger than a claim's scan tests its fallback). */
  jobs: number;
  /** Concurrency and rate keys drawn from (null, the keyless group, is always one of them). */
  keys: readonly string[];
  /** Each claim asks for 1 to this many jobs. */
  maxLimit: number;
}

/**
 * Drives `adapter` and `reference` (a fresh `MemoryStorage`, whose claim is `planFlowClaim`)
 * through the same random jobs, claims and outcomes of `seed`: every claim must take the same
 * jobs in the same order and, when it comes back short, announce the same ready times. A name
 * with both rules keeps its rate key equal to its concurrency key (a rate group shared by two
 * concurrency groups is where adapters that read group by group may pick differently, never
 * past a limit). Both adapters must be empty and initialised.
 */
export async function compareWithReference(
  seed: number,
  adapter: StorageAdapter,
  reference: StorageAdapter,
  scenario: ReferenceScenario,
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
  for (let i = 0; i < scenario.jobs; i++) {
    const name = pick(names);
    const key = pick([...scenario.keys, null]);
    const createdAt = T0 - 2_000 + Math.floor(rnd() * 3_000);
    jobs.push({
      ...newJob({ name, createdAt, runAt: createdAt, priority: pick([0, 0, 0, 1, 5, -2]) }),
      id: timeOrderedId(createdAt),
      concurrencyKey: name === 'rate' ? null : key,
      rateLimitKey: name === 'conc' ? null : key,
    });
  }
  // In id order: adapters may break ties of created_at by insertion order, the reference by id.
  jobs.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await adapter.enqueueMany(jobs);
  await reference.enqueueMany(jobs);
  const logs = await Promise.all(
    [adapter, reference].map(async (storage) => {
      const events: StorageEvent[] = [];
      await storage.subscribe((event) => events.push(event));
      return events;
    }),
  );
  let running: JobRecord[] = [];
  for (let step = 0; step < 40; step++) {
    const now = T0 + step * 50;
    const limit = 1 + Math.floor(rnd() * scenario.maxLimit);
    const input = {
      names,
      flow: rules,
      limit,
      now,
      ownerId: 'w',
      leaseToken: newLeaseToken(),
      leaseExpiresAt: now + 100 + Math.floor(rnd() * 900),
    };
    for (const log of logs) log.length = 0;
    const fromAdapter = await adapter.claim(input);
    const fromReference = await reference.claim(input);
    // The memory adapter delivers its events a turn later.
    await new Promise((resolve) => setImmediate(resolve));
    const what = `seed ${seed}, step ${step}, limit ${limit}`;
    expect(
      fromAdapter.map((j) => j.id),
      what,
    ).toEqual(fromReference.map((j) => j.id));
    if (fromAdapter.length < limit) {
      const ready = (events: StorageEvent[]) =>
        events.filter((e) => e.type === 'ready').sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(ready(logs[0]!), what).toEqual(ready(logs[1]!));
    }
    running.push(...fromAdapter);
    // Some of what runs ends (success or retry), the same on both.
    const ending = running.filter(() => rnd() < 0.4);
    running = running.filter((job) => !ending.includes(job));
    for (const job of ending) {
      const ack =
        rnd() < 0.7
          ? ({ ...fenceOf(job), kind: 'success', result: 'null', now } as const)
          : ({ ...fenceOf(job), kind: 'retry', error: '{}', runAt: now + 30, now } as const);
      expect(await adapter.ack(ack), what).toBe(true);
      expect(await reference.ack(ack), what).toBe(true);
    }
  }
}
