import { describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../src/storage/index.ts';
import { ClaimLoop } from '../src/worker/claim-loop.ts';
import { DueTimer } from '../src/worker/due-timer.ts';
import { InFlight } from '../src/worker/in-flight.ts';
import { SlotLedger } from '../src/worker/slot-ledger.ts';

/** The worker's parts, each on its own (the engine tests cover them together). */

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('SlotLedger', () => {
  it('counts held slots and the outcome budget, and says when room frees', () => {
    const freed = vi.fn();
    const slots = new SlotLedger(2, freed);
    expect(slots.free()).toBe(2);
    slots.take();
    slots.take();
    expect(slots.free()).toBe(0);
    // Both handlers return; their outcomes are not committed yet. The slots are free again,
    // and the outcome budget (another 2) does not bound a claim yet: min(2 - 0, 4 - 0 - 2).
    for (let i = 0; i < 2; i++) {
      slots.give();
      slots.outcomeQueued();
    }
    expect(freed).toHaveBeenCalledTimes(2);
    expect(slots.free()).toBe(2);
    // Two more run and return, their outcomes queued behind the first two: 4 outcomes
    // uncommitted use the whole budget, so no claim may start although no slot is held.
    slots.take();
    slots.take();
    for (let i = 0; i < 2; i++) {
      slots.give();
      slots.outcomeQueued();
    }
    expect(slots.free()).toBe(0);
    slots.outcomesWritten(4);
    expect(freed).toHaveBeenCalledTimes(5);
    expect(slots.free()).toBe(2);
  });

  it('a lent slot runs other jobs and is taken back at once, even over the limit', () => {
    const slots = new SlotLedger(1, () => {});
    slots.take();
    slots.lend();
    expect(slots.lent).toBe(1);
    expect(slots.free()).toBe(1);
    slots.take(); // a child runs in the lent slot
    slots.takeBack(); // the parent's wait ends before the child's handler returns
    expect(slots.lent).toBe(0);
    expect(slots.free()).toBe(-1);
  });

  it('a reservation holds a slot until it is used or cancelled', () => {
    const freed = vi.fn();
    const slots = new SlotLedger(1, freed);
    slots.reserve();
    expect(slots.reserved).toBe(1);
    expect(slots.free()).toBe(0);
    slots.useReservation();
    slots.take(); // the job starts in the same tick
    expect(slots.free()).toBe(0);
    expect(freed).not.toHaveBeenCalled();
    slots.give();
    slots.reserve();
    slots.cancelReservation();
    expect(slots.reserved).toBe(0);
    expect(slots.free()).toBe(1);
    expect(freed).toHaveBeenCalledTimes(2);
  });
});

describe('ClaimLoop', () => {
  function loop(free: () => number, answer: (limit: number) => Promise<JobRecord[]>) {
    const inFlight = new InFlight();
    const claims: number[] = [];
    const started: JobRecord[] = [];
    const errors: unknown[] = [];
    const claimLoop = new ClaimLoop({
      claim: (limit) => {
        claims.push(limit);
        return answer(limit);
      },
      freeSlots: free,
      start: (job) => started.push(job),
      track: (work) => void inFlight.track(work),
      report: (_message, error) => errors.push(error),
    });
    return { claimLoop, claims, started, errors, inFlight };
  }
  const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `j${i}` }) as JobRecord);

  it('coalesces a burst of wake-ups into one claim for every free slot', async () => {
    const { claimLoop, claims, inFlight } = loop(
      () => 5,
      async () => [],
    );
    for (let i = 0; i < 10; i++) claimLoop.wake();
    await inFlight.drained();
    expect(claims).toEqual([5]);
  });

  it('claims again after a full batch; a short batch marks the queue empty until a wake-up', async () => {
    let free = 3;
    const batches = [jobs(3), jobs(1)];
    const { claimLoop, claims, started, inFlight } = loop(
      () => free,
      async () => batches.shift() ?? [],
    );
    claimLoop.wake();
    await inFlight.drained();
    expect(claims).toEqual([3, 3]);
    expect(started).toHaveLength(4);
    expect(claimLoop.mayHaveWork).toBe(false);
    // A freed slot does not claim while the queue is known empty; an announcement does.
    free = 1;
    claimLoop.slotFreed();
    await inFlight.drained();
    expect(claims).toEqual([3, 3]);
    claimLoop.wake();
    await inFlight.drained();
    expect(claims).toEqual([3, 3, 1]);
  });

  it('a wake-up during a claim keeps the queue marked as possibly holding work', async () => {
    const reply = deferred<JobRecord[]>();
    const { claimLoop, claims, inFlight } = loop(
      () => 2,
      (limit) => (claims.length === 1 ? reply.promise : Promise.resolve(jobs(limit - 1))),
    );
    claimLoop.wake();
    await nextTurn();
    expect(claims).toHaveLength(1);
    claimLoop.wake(); // arrives while the first claim is in flight
    reply.resolve([]); // short: on its own it would mean "queue empty"
    await inFlight.drained();
    expect(claims).toHaveLength(2); // claimed again for the wake-up
    expect(claimLoop.mayHaveWork).toBe(false); // the second was short with no new wake-up
  });

  it('starts no claim after stop(); one in flight still delivers its jobs', async () => {
    const reply = deferred<JobRecord[]>();
    const { claimLoop, claims, started, inFlight } = loop(
      () => 2,
      () => reply.promise,
    );
    claimLoop.wake();
    await nextTurn();
    claimLoop.stop();
    claimLoop.wake();
    reply.resolve(jobs(2)); // a full batch would normally claim again
    await inFlight.drained();
    expect(claims).toEqual([2]);
    expect(started).toHaveLength(2);
  });

  it('reports a failed claim and claims again on the next wake-up', async () => {
    let fail = true;
    const { claimLoop, claims, errors, inFlight } = loop(
      () => 1,
      async () => {
        if (fail) throw new Error('down');
        return [];
      },
    );
    claimLoop.wake();
    await inFlight.drained();
    expect(errors).toHaveLength(1);
    fail = false;
    claimLoop.wake();
    await inFlight.drained();
    expect(claims).toHaveLength(2);
  });
});

describe('InFlight', () => {
  it('drained() waits for work that starts while it waits', async () => {
    const inFlight = new InFlight();
    const first = deferred<void>();
    const second = deferred<void>();
    let done = false;
    inFlight.track(first.promise.then(() => void inFlight.track(second.promise)));
    const drained = inFlight.drained().then(() => {
      done = true;
    });
    first.resolve();
    await nextTurn();
    expect(done).toBe(false);
    second.resolve();
    await drained;
    expect(done).toBe(true);
  });

  it('a rejected piece of work does not reject drained()', async () => {
    const inFlight = new InFlight();
    inFlight.track(Promise.reject(new Error('x'))).catch(() => {});
    await expect(inFlight.drained()).resolves.toBeUndefined();
  });
});

describe('DueTimer', () => {
  it('keeps the earliest due time and fires once for it', () => {
    vi.useFakeTimers({ now: 0 });
    try {
      const onDue = vi.fn();
      const timer = new DueTimer({ now: () => Date.now() }, onDue);
      timer.wakeAt(1_000);
      timer.wakeAt(5_000); // later: ignored
      timer.wakeAt(500); // earlier: replaces
      vi.advanceTimersByTime(499);
      expect(onDue).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(onDue).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(10_000);
      expect(onDue).toHaveBeenCalledTimes(1);
      timer.wakeAt(20_000);
      timer.stop();
      vi.advanceTimersByTime(20_000);
      expect(onDue).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
