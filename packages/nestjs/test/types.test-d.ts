import type { JobHandle } from 'reseolio';
import { describe, expectTypeOf, it } from 'vitest';
import { Durable, type DurableHandles, type DurableHandlesOf } from '../src/index.ts';

interface Receipt {
  chargeId: string;
}

class Payments {
  rate = 3;

  @Durable('payments:charge')
  async charge(orderId: string, cents: number): Promise<Receipt> {
    return { chargeId: `${orderId}:${cents * this.rate}` };
  }

  @Durable({ name: 'payments:refund', maxAttempts: 1 })
  async refund(_chargeId: string): Promise<void> {}

  sync(): number {
    return 1;
  }
}

declare const handles: DurableHandles;
declare const payments: Payments;

describe('DurableHandles.of()', () => {
  it('maps each async method to one resolving a JobHandle of its result', () => {
    const of = handles.of(payments);
    expectTypeOf(of).toEqualTypeOf<DurableHandlesOf<Payments>>();
    expectTypeOf(of.charge).parameters.toEqualTypeOf<[orderId: string, cents: number]>();
    expectTypeOf(of.charge('o1', 100)).toEqualTypeOf<Promise<JobHandle<Receipt>>>();
    expectTypeOf(of.refund('ch_1')).toEqualTypeOf<Promise<JobHandle<void>>>();
    // result() of the handle is typed from the method's return type.
    expectTypeOf<Awaited<ReturnType<JobHandle<Receipt>['result']>>>().toEqualTypeOf<Receipt>();
  });

  it('makes non-async members unusable and rejects wrong arguments', () => {
    const of = handles.of(payments, { idempotencyKey: 'k' });
    expectTypeOf(of.sync).toBeNever();
    expectTypeOf(of.rate).toBeNever();
    // @ts-expect-error cents must be a number
    void of.charge('o1', '100');
    // @ts-expect-error call options go to of(), not to the method
    void of.refund('ch_1', { idempotencyKey: 'k' });
  });

  it('keeps a direct call typed as the method declares: the result, not a handle', () => {
    expectTypeOf(payments.charge('o1', 1)).toEqualTypeOf<Promise<Receipt>>();
  });
});

describe('@Durable()', () => {
  it('only decorates methods that return a Promise', () => {
    class Wrong {
      // @ts-expect-error a synchronous method would change type once it runs as a job
      @Durable()
      now(): number {
        return 1;
      }
    }
    expectTypeOf<Wrong>().toHaveProperty('now');
  });

  it('takes a name and options, or one options object', () => {
    expectTypeOf(Durable).toBeCallableWith('a:b', { maxAttempts: 2 });
    expectTypeOf(Durable).toBeCallableWith({ name: 'a:b', timeoutMs: 5 });
    expectTypeOf(Durable).toBeCallableWith();
    // @ts-expect-error unknown option
    Durable({ maxAttempt: 2 });
  });
});
