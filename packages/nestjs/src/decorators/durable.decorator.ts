import { SetMetadata } from '@nestjs/common';
import type {
  DurableDecoratorOptions,
  DurableMetadata,
  DurableMethodOptions,
} from '../interfaces/durable-options.interface.ts';
import { DURABLE_METADATA } from '../reseolio.constants.ts';

/**
 * A method decorator that only accepts methods returning a `Promise`: the explorer replaces the
 * method with one that resolves the job's result, so a synchronous method would change type.
 */
export type DurableMethodDecorator = <T extends (...args: any[]) => Promise<unknown>>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<T>,
) => void;

/**
 * Marks a provider method as a durable function. At module init the method is registered on
 * the engine; afterwards a direct call persists a job and resolves the job's result, and
 * `DurableHandles.of(provider).method(...)` resolves the job's handle instead.
 *
 * The decorator only stores metadata; nothing is wrapped until the module initializes.
 *
 * @param name the stored name. @default `${ClassName}:${methodName}`. Give one explicitly:
 *   jobs are matched to code by name across deploys, and renames or minifiers change the
 *   default.
 * @param options retry policy (`maxAttempts`, `backoff`, `timeoutMs`, …), and `schedule` to
 *   run the method on a cron schedule:
 *   `@Durable('reports:daily', { schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' } })`
 *   declares the schedule `reports:daily` (or `schedule.id`) at every boot.
 */
export function Durable(name?: string, options?: DurableMethodOptions): DurableMethodDecorator;
export function Durable(options: DurableDecoratorOptions): DurableMethodDecorator;
export function Durable(
  nameOrOptions?: string | DurableDecoratorOptions,
  options: DurableMethodOptions = {},
): DurableMethodDecorator {
  let metadata: DurableMetadata;
  if (typeof nameOrOptions === 'object' && nameOrOptions !== null) {
    const { name, schedule, ...policy } = nameOrOptions;
    metadata = { name, options: policy, schedule };
  } else {
    const { schedule, ...policy } = options ?? {};
    metadata = { name: nameOrOptions, options: policy, schedule };
  }
  const setMetadata = SetMetadata(DURABLE_METADATA, metadata);
  return (target, propertyKey, descriptor) => {
    setMetadata(target, propertyKey, descriptor);
  };
}
