import { Injectable } from '@nestjs/common';
import type { CallOptions, DurableFunction } from 'reseolio';
import { NotDurableError } from './errors/not-durable.error.ts';
import type { DurableHandlesOf } from './interfaces/durable-handles.interface.ts';
import { NOT_A_DURABLE_METHOD, NOT_A_DURABLE_PROVIDER } from './reseolio.messages.ts';

type AnyDurable = DurableFunction<unknown[], unknown>;

/**
 * Starts `@Durable()` methods without waiting for them: `handles.of(this.payments).charge(id)`
 * stores the job and resolves its `JobHandle` at once, typed from the method. A direct call
 * (`this.payments.charge(id)`) waits for the job's result instead.
 */
@Injectable()
export class DurableHandles {
  // Keyed by the provider instance Nest injects, so the same object a caller holds finds its
  // registrations; weak so a discarded application context does not keep them alive.
  readonly #byInstance = new WeakMap<object, Map<string, AnyDurable>>();

  /**
   * The job-starting view of a provider. `options` (an idempotency key, a delay, retry
   * overrides…) apply to every call made through the returned object.
   * @throws NotDurableError when `provider` has no registered `@Durable()` method
   */
  of<T extends object>(provider: T, options?: CallOptions): DurableHandlesOf<T> {
    const methods = this.#byInstance.get(provider);
    if (methods === undefined) throw new NotDurableError(NOT_A_DURABLE_PROVIDER(nameOf(provider)));
    return new Proxy({} as DurableHandlesOf<T>, {
      get: (_target, key) => {
        // Symbols (inspection) and `then` (a thenability probe by `await`) are not method calls.
        if (typeof key !== 'string' || key === 'then') return undefined;
        const fn = methods.get(key);
        if (fn === undefined) {
          throw new NotDurableError(NOT_A_DURABLE_METHOD(nameOf(provider), String(key)));
        }
        // enqueue(args, options) rather than fn(...args): the method's own last argument may
        // be a plain object that looks like call options, and must reach the method intact.
        return (...args: unknown[]) => fn.enqueue(args, options);
      },
    });
  }

  /** @internal Called by the explorer for each registered method. */
  register(provider: object, methodName: string, fn: AnyDurable): void {
    let methods = this.#byInstance.get(provider);
    if (methods === undefined) {
      methods = new Map();
      this.#byInstance.set(provider, methods);
    }
    methods.set(methodName, fn);
  }
}

function nameOf(value: object): string {
  return value?.constructor?.name ?? typeof value;
}
