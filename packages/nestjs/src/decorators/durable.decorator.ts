import { SetMetadata } from '@nestjs/common';
import type { DurableOptions } from 'reseolio';
import type {
  DurableDecoratorOptions,
  DurableMetadata,
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
 * @param options retry policy (`maxAttempts`, `backoff`, `timeoutMs`, …)
 */
export function Durable(name?: string, options?: DurableOptions): DurableMethodDecorator;
export function Durable(options: DurableDecoratorOptions): DurableMethodDecorator;
export function Durable(
  nameOrOptions?: string | DurableDecoratorOptions,
  options: DurableOptions = {},
): DurableMethodDecorator {
  let metadata: DurableMetadata;
  if (typeof nameOrOptions === 'object' && nameOrOptions !== null) {
    const { name, ...policy } = nameOrOptions;
    metadata = { name, options: policy };
  } else {
    metadata = { name: nameOrOptions, options };
  }
  const setMetadata = SetMetadata(DURABLE_METADATA, metadata);
  return (target, propertyKey, descriptor) => {
    setMetadata(target, propertyKey, descriptor);
  };
}
