import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
// Value imports (not `import type`) for injected classes: Nest resolves constructor
// parameters from the emitted design:paramtypes metadata, which needs the runtime class.
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import {
  DuplicateFunctionError,
  type DurableFunction,
  InvalidScheduleError,
  type Reseolio,
  ReseolioValidationError,
} from 'reseolio';
import { validateScheduleDeclaration } from 'reseolio/http';
import { DurableHandles } from './durable-handles.ts';
import { DuplicateDurableError } from './errors/duplicate-durable.error.ts';
import type { DurableScheduleOptions } from './interfaces/durable-options.interface.ts';
import { RESEOLIO_ENGINE, RESEOLIO_LOGGER_CONTEXT } from './reseolio.constants.ts';
import {
  DUPLICATE_SCHEDULE,
  DURABLE_ROUTE_HANDLER,
  INVALID_DURABLE,
  INVALID_SCHEDULE,
  NON_STATIC_PROVIDER,
} from './reseolio.messages.ts';
import { ReseolioMetadataAccessor } from './reseolio-metadata.accessor.ts';

type Method = (...args: unknown[]) => Promise<unknown>;

/** A `@Durable()` method found on a singleton. */
interface Found {
  instance: Record<string, Method>;
  key: string;
}

/** A schedule to declare once every method is registered. */
interface Declared {
  id: string;
  name: string;
  method: string;
  options: Omit<DurableScheduleOptions, 'id'>;
}

/**
 * Finds `@Durable()` methods on singleton providers and controllers at module init, registers
 * each on the engine, and replaces the method on the instance so that a direct call runs
 * durably. Methods with a `schedule` have their schedules checked before anything is
 * registered, and declared (`reseolio.schedule`) once every method is.
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

  async onModuleInit(): Promise<void> {
    // Controllers too: a @Durable() method on one was silently left a plain method.
    const wrappers = [
      ...this.discoveryService.getProviders(),
      ...this.discoveryService.getControllers(),
    ];
    const found = wrappers.flatMap((wrapper) => this.#explore(wrapper));
    // Every schedule is checked first: a bad cron fails the boot with nothing registered.
    const schedules = this.#schedules(found);
    for (const { instance, key } of found) this.#register(instance, key);
    for (const { id, name, options } of schedules) {
      await this.engine.schedule(id, name, options);
    }
  }

  #schedules(found: Found[]): Declared[] {
    const declared = new Map<string, Declared>();
    for (const { instance, key } of found) {
      const metadata = this.metadataAccessor.getDurableMetadata(instance[key]!)!;
      if (metadata.schedule === undefined) continue;
      const className = instance.constructor.name;
      const method = `${className}.${key}`;
      const name = metadata.name ?? `${className}:${key}`;
      const schedule = metadata.schedule as unknown;
      if (typeof schedule !== 'object' || schedule === null || Array.isArray(schedule)) {
        throw new ReseolioValidationError(
          INVALID_SCHEDULE(method, "schedule must be an object such as { cron: '0 9 * * *' }."),
          'RESEOLIO_INVALID_OPTION',
        );
      }
      const { id = name, ...options } = schedule as DurableScheduleOptions;
      try {
        validateScheduleDeclaration(id, options);
      } catch (error) {
        if (error instanceof InvalidScheduleError) {
          throw new InvalidScheduleError(INVALID_SCHEDULE(method, error.message), {
            cause: error,
          });
        }
        if (error instanceof ReseolioValidationError) {
          throw new ReseolioValidationError(INVALID_SCHEDULE(method, error.message), error.code, {
            cause: error,
          });
        }
        throw error;
      }
      const first = declared.get(id);
      if (first !== undefined) {
        throw new ReseolioValidationError(
          DUPLICATE_SCHEDULE(id, first.method, method),
          'RESEOLIO_INVALID_SCHEDULE',
        );
      }
      declared.set(id, { id, name, method, options });
    }
    return [...declared.values()];
  }

  #explore(wrapper: InstanceWrapper): Found[] {
    const { instance } = wrapper;
    if (!instance || typeof instance !== 'object') return [];
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (!prototype) return [];
    const durableKeys = this.metadataScanner
      .getAllMethodNames(prototype)
      .filter((key) => this.metadataAccessor.getDurableMetadata(instance[key]) !== undefined);
    if (durableKeys.length === 0) return [];
    // A job runs outside any request, and a transient provider has one instance per consumer:
    // neither has the single instance a job could be bound to.
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      this.#logger.warn(NON_STATIC_PROVIDER(wrapper.metatype?.name ?? String(wrapper.name)));
      return [];
    }
    return durableKeys.map((key) => ({ instance, key }));
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
