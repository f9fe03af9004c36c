import type { AckInput, JobRecord, StorageAdapter, WakeCondition } from 'reseolio/storage';
import { describe, expect } from 'vitest';
import { recordEvents } from '../event-log.ts';
import {
  enqueueRunning,
  fenceOf,
  LEASE_MS,
  mustGet,
  newJob,
  T0,
  timeOrderedId,
  uniqueName,
} from '../fixtures.ts';
import type { ContractContext } from '../harness.ts';

const WAIT = '{"kind":"sleep","until":1}';
/** A wait without a timeout: due at the largest time the engine stores. */
const NEVER = 253_402_300_799_999;

function suspend(
  job: JobRecord,
  wake: WakeCondition,
  { runAt = NEVER, now = T0 + 1, waitingFor = WAIT } = {},
): AckInput {
  return {
    ...fenceOf(job),
    kind: 'suspend',
    attempt: job.attempt - 1,
    runAt,
    waitingFor,
    wake,
    now,
  };
}

function signalInput(
  jobId: string,
  topic: string,
  payload: string,
  idempotencyKey: string | null = null,
  now = T0 + 2,
) {
  return { id: timeOrderedId(now), jobId, topic, payload, idempotencyKey, now };
}

/** Claims whatever of `name` is due at `now`. */
async function claimDue(storage: StorageAdapter, name: string, now: number) {
  return storage.claim({
    names: [name],
    ownerId: 'w',
    leaseToken: `token-${now}-${Math.random()}`,
    limit: 10,
    now,
    leaseExpiresAt: now + LEASE_MS,
  });
}

/** Steps, suspensions and signals: what durable workflows store. */
export function workflowsSuite({ test }: ContractContext): void {
  describe('workflows', () => {
    test('recordStep keeps the first value of a key, fenced on the attempt; listSteps returns them', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      const fence = fenceOf(job);
      expect(await storage.listSteps(job.id)).toEqual([]);
      expect(
        await storage.recordStep({ ...fence, key: 'step:load#0', value: '{"a":1}', now: T0 + 1 }),
      ).toBe('recorded');
      expect(
        await storage.recordStep({ ...fence, key: 'step:load#0', value: '{"a":2}', now: T0 + 2 }),
      ).toBe('exists');
      expect(
        await storage.recordStep({ ...fence, key: 'sleep#0', value: '1700000099999', now: T0 + 3 }),
      ).toBe('recorded');
      expect(
        await storage.recordStep({
          id: job.id,
          leaseToken: 'another claim',
          key: 'step:other#0',
          value: '1',
          now: T0 + 4,
        }),
      ).toBe('fenced-out');
      const steps = await storage.listSteps(job.id);
      expect(steps.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: 'sleep#0', value: '1700000099999', createdAt: T0 + 3 },
        { key: 'step:load#0', value: '{"a":1}', createdAt: T0 + 1 },
      ]);
      expect(await storage.listSteps('00000000-0000-7000-8000-000000000000')).toEqual([]);
    });

    test('a suspended job is waiting with no owner and no lease, then claimable at its runAt, its steps kept', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      await storage.recordStep({ ...fenceOf(job), key: 'step:a#0', value: '1', now: T0 + 1 });
      const log = await recordEvents(storage);
      expect(await storage.ack(suspend(job, { kind: 'time' }, { runAt: T0 + 5_000 }))).toBe(true);
      expect(await mustGet(storage, job.id)).toEqual({
        ...job,
        status: 'waiting',
        attempt: 0,
        ownerId: null,
        leaseExpiresAt: null,
        runAt: T0 + 5_000,
        waitingFor: WAIT,
      });
      await log.waitFor({ type: 'ready', name: job.name, runAt: T0 + 5_000 });
      await log.unsubscribe();
      expect(await storage.listJobs({ status: 'waiting' })).toHaveLength(1);
      expect(await storage.listExpiredLeases({ now: T0 + 10 * LEASE_MS, limit: 10 })).toEqual([]);
      expect(await claimDue(storage, job.name, T0 + 4_999)).toEqual([]);
      const [again] = await claimDue(storage, job.name, T0 + 5_000);
      expect(again).toMatchObject({ id: job.id, status: 'running', attempt: 1, waitingFor: null });
      expect(await storage.listSteps(job.id)).toHaveLength(1);
      // A suspension is fenced like every ack.
      expect(await storage.ack(suspend(job, { kind: 'time' }))).toBe(false);
    });

    test('a signal sent before the wait is consumed once, oldest first, and recorded as the step', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      expect(await storage.signal(signalInput(job.id, 'plan', '"pro"'))).toEqual({
        status: 'stored',
        woke: false,
      });
      expect(await storage.signal(signalInput(job.id, 'plan', '"team"', null, T0 + 3))).toEqual({
        status: 'stored',
        woke: false,
      });
      await storage.signal(signalInput(job.id, 'other', '"x"'));
      const fence = fenceOf(job);
      const consume = (key: string, topic = 'plan') =>
        storage.consumeSignal({ ...fence, topic, key, now: T0 + 5 });
      expect(await consume('signal:plan#0')).toEqual({ status: 'consumed', payload: '"pro"' });
      expect(await consume('signal:plan#1')).toEqual({ status: 'consumed', payload: '"team"' });
      expect(await consume('signal:plan#2')).toEqual({ status: 'none' });
      expect(
        await storage.consumeSignal({
          id: job.id,
          leaseToken: 'another claim',
          topic: 'other',
          key: 'signal:other#0',
          now: T0,
        }),
      ).toEqual({ status: 'fenced-out' });
      const steps = Object.fromEntries(
        (await storage.listSteps(job.id)).map((s) => [s.key, s.value]),
      );
      expect(steps).toEqual({ 'signal:plan#0': '"pro"', 'signal:plan#1': '"team"' });
    });

    test('a signal with an idempotency key already stored for the job is a duplicate', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      const other = await enqueueRunning(storage);
      expect((await storage.signal(signalInput(job.id, 't', '1', 'k'))).status).toBe('stored');
      expect(await storage.signal(signalInput(job.id, 't', '2', 'k'))).toEqual({
        status: 'duplicate',
      });
      // Keys are per job.
      expect((await storage.signal(signalInput(other.id, 't', '3', 'k'))).status).toBe('stored');
      const fence = fenceOf(job);
      expect(await storage.consumeSignal({ ...fence, topic: 't', key: 's#0', now: T0 })).toEqual({
        status: 'consumed',
        payload: '1',
      });
      expect(await storage.consumeSignal({ ...fence, topic: 't', key: 's#1', now: T0 })).toEqual({
        status: 'none',
      });
    });

    test('a signal to an unknown or finished job stores nothing', async ({ storage }) => {
      expect(
        await storage.signal(signalInput('00000000-0000-7000-8000-000000000000', 't', '1')),
      ).toEqual({ status: 'job-not-found' });
      const job = await enqueueRunning(storage);
      await storage.ack({ ...fenceOf(job), kind: 'success', result: '1', now: T0 + 1 });
      expect(await storage.signal(signalInput(job.id, 't', '1'))).toEqual({
        status: 'job-finished',
        jobStatus: 'success',
      });
      const cancelled = newJob();
      await storage.enqueue(cancelled);
      await storage.cancel(cancelled.id, T0 + 1);
      expect(await storage.signal(signalInput(cancelled.id, 't', '1'))).toEqual({
        status: 'job-finished',
        jobStatus: 'cancelled',
      });
    });

    test('a signal wakes a job waiting for its topic, and not one waiting for another', async ({
      storage,
    }) => {
      const name = uniqueName();
      const job = await enqueueRunning(storage, { name });
      await storage.ack(suspend(job, { kind: 'signal', topic: 'plan' }));
      const log = await recordEvents(storage);
      expect(await storage.signal(signalInput(job.id, 'other', '1'))).toEqual({
        status: 'stored',
        woke: false,
      });
      expect((await mustGet(storage, job.id)).status).toBe('waiting');
      expect(await storage.signal(signalInput(job.id, 'plan', '2', null, T0 + 7))).toEqual({
        status: 'stored',
        woke: true,
      });
      expect(await mustGet(storage, job.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 7,
        waitingFor: null,
      });
      await log.waitFor({ type: 'ready', name, runAt: T0 + 7 });
      await log.unsubscribe();
      const [resumed] = await claimDue(storage, name, T0 + 7);
      expect(
        await storage.consumeSignal({ ...fenceOf(resumed!), topic: 'plan', key: 'k', now: T0 + 8 }),
      ).toEqual({ status: 'consumed', payload: '2' });
    });

    test('a suspension whose signal is already stored is due at once instead of waiting', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      await storage.signal(signalInput(job.id, 'plan', '"pro"'));
      await storage.ack(suspend(job, { kind: 'signal', topic: 'plan' }, { now: T0 + 9 }));
      expect(await mustGet(storage, job.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 9,
        waitingFor: null,
        ownerId: null,
      });
    });

    test("a child's end wakes its parent waiting for children; one already final wakes it at once", async ({
      storage,
    }) => {
      const name = uniqueName();
      const parent = await enqueueRunning(storage, { name });
      const child = await enqueueRunning(storage, { parentId: parent.id });
      await storage.ack(suspend(parent, { kind: 'children', jobIds: [child.id] }));
      expect((await mustGet(storage, parent.id)).status).toBe('waiting');
      const log = await recordEvents(storage);
      await storage.ack({ ...fenceOf(child), kind: 'dead', error: '{}', now: T0 + 20 });
      expect(await mustGet(storage, parent.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 20,
      });
      await log.waitFor({ type: 'ready', name, runAt: T0 + 20 });
      await log.unsubscribe();

      // Suspended again after the child ended: due at once.
      const [again] = await claimDue(storage, name, T0 + 20);
      await storage.ack(
        suspend(again!, { kind: 'children', jobIds: [child.id] }, { now: T0 + 21 }),
      );
      expect(await mustGet(storage, parent.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 21,
      });

      // A cancelled child wakes it too.
      const [third] = await claimDue(storage, name, T0 + 21);
      const second = newJob({ parentId: parent.id });
      await storage.enqueue(second);
      await storage.ack(suspend(third!, { kind: 'children', jobIds: [second.id] }));
      expect((await mustGet(storage, parent.id)).status).toBe('waiting');
      await storage.cancel(second.id, T0 + 30);
      expect(await mustGet(storage, parent.id)).toMatchObject({
        status: 'pending',
        runAt: T0 + 30,
      });
    });

    test('a child ending does not wake a parent that sleeps', async ({ storage }) => {
      const parent = await enqueueRunning(storage);
      const child = await enqueueRunning(storage, { parentId: parent.id });
      await storage.ack(suspend(parent, { kind: 'time' }, { runAt: T0 + 60_000 }));
      await storage.ack({ ...fenceOf(child), kind: 'success', result: '1', now: T0 + 20 });
      expect(await mustGet(storage, parent.id)).toMatchObject({
        status: 'waiting',
        runAt: T0 + 60_000,
      });
    });

    test('a waiting job can be cancelled, and a signal then finds it finished', async ({
      storage,
    }) => {
      const job = await enqueueRunning(storage);
      await storage.ack(suspend(job, { kind: 'signal', topic: 'plan' }));
      expect(await storage.cancel(job.id, T0 + 5)).toBe(true);
      expect(await mustGet(storage, job.id)).toMatchObject({
        status: 'cancelled',
        waitingFor: null,
        completedAt: T0 + 5,
      });
      expect((await storage.signal(signalInput(job.id, 'plan', '1'))).status).toBe('job-finished');
      expect(await storage.cancel(job.id, T0 + 6)).toBe(false);
    });

    test('purge deletes the steps and signals of the jobs it deletes', async ({ storage }) => {
      const job = await enqueueRunning(storage);
      await storage.recordStep({ ...fenceOf(job), key: 'step:a#0', value: '1', now: T0 });
      await storage.signal(signalInput(job.id, 'unused', '1'));
      await storage.ack({ ...fenceOf(job), kind: 'success', result: '1', now: T0 + 1 });
      expect(await storage.purge({ completedBefore: T0 + 2, limit: 10 })).toBe(1);
      expect(await storage.listSteps(job.id)).toEqual([]);
    });

    test('two instances consuming one signal at once: exactly one gets it', async ({
      storage,
      openAnother,
    }) => {
      const other = await openAnother();
      for (let i = 0; i < 5; i++) {
        const job = await enqueueRunning(storage);
        await storage.signal(signalInput(job.id, 't', String(i)));
        const fence = fenceOf(job);
        const results = await Promise.all(
          [storage, other].map((s, n) =>
            s.consumeSignal({ ...fence, topic: 't', key: `signal:t#${n}`, now: T0 }),
          ),
        );
        expect(results.filter((r) => r.status === 'consumed')).toHaveLength(1);
      }
    });

    test('a retried job keeps its steps', async ({ storage }) => {
      const job = await enqueueRunning(storage);
      await storage.recordStep({ ...fenceOf(job), key: 'step:a#0', value: '1', now: T0 });
      await storage.ack({ ...fenceOf(job), kind: 'dead', error: '{}', now: T0 + 1 });
      expect(await storage.retry(job.id, T0 + 2)).toBe(true);
      const [again] = await claimDue(storage, job.name, T0 + 2);
      expect(again?.attempt).toBe(1);
      expect(await storage.listSteps(job.id)).toEqual([
        { key: 'step:a#0', value: '1', createdAt: T0 },
      ]);
    });
  });
}
