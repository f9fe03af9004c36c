import { describe, expectTypeOf, it } from 'vitest';
import type { JobHandle } from '../src/index.ts';
import { makeEngine } from './helpers.ts';

// Compile-time checks (run by `pnpm typecheck`); at runtime they only register functions.
describe('durable() types', () => {
  it('keeps the handler argument and result types', () => {
    const engine = makeEngine();
    const charge = engine.durable('types:charge', async (orderId: string, cents: number) => ({
      id: orderId,
      cents,
    }));
    const fireAndForget = engine.durable('types:void', async (_userId: string) => {});

    expectTypeOf(charge).toBeCallableWith('o1', 100);
    expectTypeOf(charge).toBeCallableWith('o1', 100, { idempotencyKey: 'k', delayMs: 10 });
    expectTypeOf(charge.enqueue).toBeCallableWith(['o1', 100], { runAt: new Date() });
    expectTypeOf(charge.enqueue).returns.resolves.toEqualTypeOf<
      JobHandle<{ id: string; cents: number }>
    >();
    expectTypeOf(fireAndForget.enqueue).returns.resolves.toEqualTypeOf<JobHandle<void>>();
    expectTypeOf<Awaited<ReturnType<JobHandle<number>['result']>>>().toEqualTypeOf<number>();

    const wrongArgs = () => {
      // @ts-expect-error the second argument must be a number
      void charge('o1', '100');
      // @ts-expect-error an unknown call option is not accepted as options
      void charge.enqueue(['o1', 1], { retries: 2 });
    };
    void wrongArgs;
  });
});
