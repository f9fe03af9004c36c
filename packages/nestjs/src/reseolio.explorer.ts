import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
// Value imports (not `import type`) for injected classes: Nest resolves constructor
// parameters from the emitted design:paramtypes metadata, which needs the runtime class.
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  DuplicateFunctionError,
  type DurableFunction,
  type Reseolio,
  ReseolioValidationError,
} from 'reseolio';
import { DurableHandles } from './durable-handles.ts';
import { DuplicateDurableError } from './errors/duplicate-durable.error.ts';
import { RESEOLIO_ENGINE, RESEOLIO_LOGGER_CONTEXT } from './reseolio.constants.ts';
import {
  DURABLE_ROUTE_HANDLER,
  INVALID_DURABLE,
  NON_STATIC_PROVIDER,
} from './reseolio.messages.ts';
import { ReseolioMetadataAccessor } from './reseolio-metadata.accessor.ts';

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * Finds `@Durable()` methods on singleton providers and controllers at module init, registers
 * each on the engine, and replaces the method on the instance so that a direct call runs
 * durably.
 */
@Injectable()
export class ReseolioExplorer implements OnModuleInit {
  readonly #logger = new Logger(RESEOLIO_LOGGER_CONTEXT);
  /** Durable name → `Class.method` that registered it, for duplicate messages. */
  readonly #owners = new Map<string, string>();

  constructor(
    private readonly discoveryService: DiscoveryService,
    private readonly metadataScanner: MetadataScanner,
    private readonly metadataAccessor: ReseolioMetadataAccessor,
    private readonly handles: DurableHandles,
    @Inject(RESEOLIO_ENGINE) private readonly engine: Reseolio,
  ) {}

  onModuleInit(): void {
    // Controllers too: a @Durable() method on one was silently left a plain method.
    const wrappers = [
      ...this.discoveryService.getProviders(),
      ...this.discoveryService.getControllers(),
    ];
    for (const wrapper of wrappers) this.#explore(wrapper);
  }

  #explore(wrapper: InstanceWrapper): void {
    const { instance } = wrapper;
    if (!instance || typeof instance !== 'object') return;
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return;
    const durableKeys = this.metadataScanner
      .getAllMethodNames(prototype)
      .filter((key) => this.metadataAccessor.getDurableMetadata(instance[key]) !== undefined);
    if (durableKeys.length === 0) return;
    // A job runs outside any request, and a transient provider has one instance per consumer:
    // neither has the single instance a job could be bound to.
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      this.#logger.warn(NON_STATIC_PROVIDER(wrapper.metatype?.name ?? String(wrapper.name)));
      return;
    }
    for (const key of durableKeys) this.#register(instance, key);
  }

  #register(instance: Record<string, Method>, key: string): void {
    // The original method, kept before the instance property is replaced below: the job
    // must run the real code, not enqueue another job.
    const original = instance[key]!;
    const metadata = this.metadataAccessor.getDurableMetadata(original)!;
    const className = instance.constructor.name;
    const method = `${className}.${key}`;
    if (this.metadataAccessor.isRouteHandler(original)) {
      this.#logger.warn(DURABLE_ROUTE_HANDLER(method));
    }
    const name = metadata.name ?? `${className}:${key}`;
    const first = this.#owners.get(name);
    if (first !== undefined) throw new DuplicateDurableError(name, method, first);

    let fn: DurableFunction<unknown[], unknown>;
    try {
      fn = this.engine.durable(name, (...args: unknown[]) => original.apply(instance, args), {
        ...metadata.options,
      });
    } catch (error) {
      if (error instanceof DuplicateFunctionError) {
        throw new DuplicateDurableError(name, method, undefined, { cause: error });
      }
      if (error instanceof ReseolioValidationError) {
        throw new ReseolioValidationError(INVALID_DURABLE(method, error.message), error.code);
      }
      throw error;
    }
    this.#owners.set(name, method);
    this.handles.register(instance, key, fn);
    // An own property shadows the prototype method for this instance only. enqueue(args)
    // passes the arguments exactly as given; result() keeps the method's declared
    // Promise<T> true for callers.
    instance[key] = (...args: unknown[]) => fn.enqueue(args).then((handle) => handle.result());
  }
}
