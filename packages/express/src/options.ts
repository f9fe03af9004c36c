import type { Request } from 'express';
import { describeValue, type Logger, type Reseolio } from 'reseolio';
import {
  assertReseolioEngine,
  IntegrationConfigError,
  isReseolioEngine,
  type ResolvedDashboardOptions,
  type ResolvedEngineBinding,
  type ResolvedJobApiOptions,
  type ResolvedMetricsOptions,
  renameDeprecatedOptions,
  resolveDashboardOptions,
  resolveEngineBinding,
  resolveJobApiOptions,
  resolveMetricsOptions,
  resolveScheduleApiOptions,
} from 'reseolio/http';
import { consoleLogger } from './console-logger.ts';
import type { ShutdownInfo } from './types.ts';

/**
 * Validates options synchronously, when the middleware, router or shutdown helper is built,
 * so a mistake fails at startup rather than on the first request (as express-session does).
 * The rules shared with Fastify and Nest (engine, ownership, drain deadline, job routes) live
 * in `reseolio/http`; every mistake is an `IntegrationConfigError`.
 */

export interface ResolvedShutdownOptions {
  binding: ResolvedEngineBinding & { source: { kind: 'borrowed'; instance: Reseolio } };
  signals: NodeJS.Signals[];
  onShutdown: ((info: ShutdownInfo) => void | Promise<void>) | null;
}

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * The options of a helper called as documented (`helper({ instance, ... })`), or in the
 * deprecated form with the engine first (`helper(engine, { ... })`), which still works with a
 * `DeprecationWarning` until 1.0 and, for `attachShutdown`, means `stopInstance: true` as
 * it always did.
 */
export function optionsFrom(
  first: unknown,
  second: unknown,
  where: string,
  positionalDefaults: Record<string, unknown> = {},
): Record<string, unknown> {
  if (!isReseolioEngine(first)) {
    if (second !== undefined) assertReseolioEngine(first, `${where}'s first argument`);
    return plainObject(first, `${where} options`);
  }
  const rest = plainObject(second ?? {}, `${where} options`);
  if (rest.instance !== undefined) {
    throw new IntegrationConfigError(
      `${where}: give the engine once, as { instance: reseolio }, not also as first argument.`,
    );
  }
  process.emitWarning(
    `@reseolio/express: ${where}(reseolio, options) is deprecated and will be removed before ` +
      `1.0; pass the engine as an option: ${where}({ instance: reseolio, ... }).`,
    { type: 'DeprecationWarning', code: 'RESEOLIO_DEP_POSITIONAL_ENGINE' },
  );
  return { ...positionalDefaults, ...rest, instance: first };
}

export function resolveMiddlewareOptions(options: Record<string, unknown>): {
  engine: Reseolio;
  optional: boolean;
} {
  knownKeys(options, ['instance', 'optional'], 'reseolioMiddleware');
  if (options.optional !== undefined && typeof options.optional !== 'boolean') {
    throw new IntegrationConfigError('reseolioMiddleware option optional must be true or false.');
  }
  return {
    engine: requireInstance(options, 'reseolioMiddleware'),
    optional: options.optional === true,
  };
}

export function resolveRouterOptions(options: Record<string, unknown>): {
  engine: Reseolio;
  routes: ResolvedJobApiOptions<Request>;
  logger: Logger;
} {
  const { instance, logger, ...routes } = options;
  return {
    engine: requireInstance({ instance }, 'reseolioRouter'),
    routes: resolveJobApiOptions<Request>(routes, 'reseolioRouter options', { withPrefix: false }),
    logger: routerLogger(logger, 'reseolioRouter'),
  };
}

/** `reseolioScheduleRouter({ instance, authorize | public, logger })`. */
export function resolveScheduleRouterOptions(options: unknown): {
  engine: Reseolio;
  routes: { authorize: ((request: Request) => boolean | Promise<boolean>) | null };
  logger: Logger;
} {
  const where = 'reseolioScheduleRouter';
  const { instance, logger, ...routes } = plainObject(options, `${where} options`);
  return {
    engine: requireInstance({ instance }, where),
    routes: resolveScheduleApiOptions<Request>(routes, `${where} options`),
    logger: routerLogger(logger, where),
  };
}

/** `reseolioMetricsRouter({ instance, authorize | public, processMetrics, logger })`. */
export function resolveMetricsRouterOptions(options: unknown): {
  engine: Reseolio;
  metrics: ResolvedMetricsOptions<Request>;
  logger: Logger;
} {
  const where = 'reseolioMetricsRouter';
  const { instance, logger, ...metrics } = plainObject(options, `${where} options`);
  return {
    engine: requireInstance({ instance }, where),
    metrics: resolveMetricsOptions<Request>(metrics, `${where} options`, { withPath: false })!,
    logger: routerLogger(logger, where),
  };
}

/** `reseolioDashboard({ instance, authorize | public, readOnly, title, stuckAfterMs, logger })`. */
export function resolveDashboardRouterOptions(options: unknown): {
  engine: Reseolio;
  dashboard: ResolvedDashboardOptions<Request>;
  logger: Logger;
} {
  const where = 'reseolioDashboard';
  const { instance, logger, ...dashboard } = plainObject(options, `${where} options`);
  return {
    engine: requireInstance({ instance }, where),
    dashboard: resolveDashboardOptions<Request>(dashboard, `${where} options`, {
      withPrefix: false,
    })!,
    logger: routerLogger(logger, where),
  };
}

function routerLogger(logger: unknown, where: string): Logger {
  if (logger !== undefined && !isLogger(logger)) {
    throw new IntegrationConfigError(
      `${where} option logger must have error and warn methods, such as console or a pino logger.`,
    );
  }
  return (logger as Logger | undefined) ?? consoleLogger;
}

export function resolveShutdownOptions(options: Record<string, unknown>): ResolvedShutdownOptions {
  const where = 'attachShutdown options';
  const o = renameDeprecatedOptions(options, '@reseolio/express', where);
  knownKeys(
    o,
    ['instance', 'stopInstance', 'stopTimeoutMs', 'signals', 'onShutdown'],
    'attachShutdown',
  );
  const binding = resolveEngineBinding(o, where, {
    ownKeys: ['signals', 'onShutdown'],
    engineOptions: false,
  }) as ResolvedShutdownOptions['binding'];
  const signals = o.signals ?? DEFAULT_SIGNALS;
  if (!Array.isArray(signals) || !signals.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new IntegrationConfigError(
      `attachShutdown signals must be an array of signal names such as ['SIGTERM'].`,
    );
  }
  if (o.onShutdown !== undefined && typeof o.onShutdown !== 'function') {
    throw new IntegrationConfigError('attachShutdown onShutdown must be a function.');
  }
  return {
    binding,
    signals: [...(signals as NodeJS.Signals[])],
    onShutdown: (o.onShutdown as ResolvedShutdownOptions['onShutdown']) ?? null,
  };
}

function requireInstance(options: Record<string, unknown>, where: string): Reseolio {
  if (options.instance === undefined) {
    throw new IntegrationConfigError(
      `${where} needs the engine: pass { instance: reseolio } with the Reseolio engine your app created.`,
    );
  }
  assertReseolioEngine(options.instance, `${where} option instance`);
  return options.instance;
}

function isLogger(value: unknown): value is Logger {
  const logger = value as Partial<Logger> | null;
  return (
    typeof logger === 'object' &&
    logger !== null &&
    typeof logger.error === 'function' &&
    typeof logger.warn === 'function'
  );
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new IntegrationConfigError(`${what} must be an object such as { instance: reseolio }.`);
  }
  return value as Record<string, unknown>;
}

function knownKeys(o: Record<string, unknown>, keys: string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      throw new IntegrationConfigError(
        `Unknown ${where} option ${describeValue(key)}; known options: ${keys.join(', ')}.`,
      );
    }
  }
}
