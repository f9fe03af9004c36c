/**
 * Input that the databases would treat differently is refused in the core, so every adapter
 * gives the same answer: a typed error, and nothing stored.
 */

import { ReseolioValidationError } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { BACKENDS, engineOn } from './helpers.ts';

describe.each(BACKENDS)('on $backend', ({ freshDatabase }) => {
  it('refuses idempotency keys with NUL or unpaired surrogates, storing nothing', async () => {
    const reseolio = engineOn(freshDatabase()(), { workerConcurrency: 0 });
    const charge = reseolio.durable('input:charge', async (_orderId: string) => {});
    // PostgreSQL refused NUL and folded both lone surrogates into U+FFFD (one job for two
    // keys); SQLite stored all three as given.
    for (const idempotencyKey of ['\uD800', '\uDBFF', 'order-1\u0000']) {
      const error = await charge('o1', { idempotencyKey }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReseolioValidationError);
      expect(error).toMatchObject({ code: 'RESEOLIO_INVALID_OPTION' });
      expect((error as Error).message).toContain('"idempotencyKey"');
    }
    expect(await reseolio.listJobs()).toEqual([]);
    // Whole characters outside the BMP are fine, and distinct keys stay distinct.
    const card = await charge('o1', { idempotencyKey: 'pay-💳' });
    const cash = await charge('o1', { idempotencyKey: 'pay-💵' });
    expect(cash.jobId).not.toBe(card.jobId);
    expect((await charge('o1', { idempotencyKey: 'pay-💳' })).jobId).toBe(card.jobId);
  });

  it('refuses times that are fractional or beyond year 9999, storing nothing', async () => {
    const reseolio = engineOn(freshDatabase()(), { workerConcurrency: 0 });
    const later = reseolio.durable('input:later', async () => {});
    // PostgreSQL answered these with raw bigint errors; SQLite stored them.
    for (const runAt of [1234.5, 1e20, 9e15]) {
      await expect(later.enqueue([], { runAt })).rejects.toMatchObject({
        name: 'ReseolioValidationError',
        code: 'RESEOLIO_INVALID_OPTION',
      });
    }
    expect(await reseolio.listJobs()).toEqual([]);
    const last = await later.enqueue([], { runAt: new Date('9999-12-31T23:59:59.999Z') });
    expect((await last.details()).runAt.toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it('refuses list filters and pages the databases would disagree on', async () => {
    const reseolio = engineOn(freshDatabase()(), { workerConcurrency: 0 });
    for (const filter of [{ name: 'a\u0000' }, { offset: 1e20 }]) {
      await expect(reseolio.listJobs(filter)).rejects.toBeInstanceOf(ReseolioValidationError);
    }
    expect(await reseolio.listJobs({ offset: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });
});
