import type { Request } from 'express';
import { describeValue, type Reseolio, ReseolioValidationError } from 'reseolio';
import { type ResolvedJobApiOptions, resolveJobApiOptions } from 'reseolio/http';
import type { ShutdownInfo } from './types.ts';

/**
 * Validates options synchronously, when the middleware, router or shutdown helper is built,
 * so a mistake fails at startup rather than on the first request (as express-session does).
 */

export interface ResolvedShutdownOptions {
  signals: NodeJS.Signals[];
  timeoutMs: number;
  onShutdown: ((info: ShutdownInfo) => void | Promise<void>) | null;
}

const DEFAULT_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
const DEFAULT_TIMEOUT_MS = 10_000;
/** Both waits are timers, which cannot wait longer (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Duck-typed rather than `instanceof`: two copies of `reseolio` in one app (a bundling
 * mistake) would otherwise fail with a message that hides the real cause.
 */
export function assertEngine(value: unknown, where: string): asserts value is Reseolio {
  const engine = value as Partial<Reseolio> | null;
  const ok =
    typeof engine === 'object' &&
    engine !== null &&
    typeof engine.stop === 'function' &&
    typeof engine.getHandle === 'function' &&
    typeof engine.durable === 'function';
  if (!ok) {
    throw invalid(`${where} needs a Reseolio engine as first argument (new Reseolio({ ... })).`);
  }
}

export function resolveMiddlewareOptions(options: unknown): { optional: boolean } {
  const o = plainObject(options ?? {}, 'reseolioMiddleware options');
  knownKeys(o, ['optional'], 'reseolioMiddleware');
  if (o.optional !== undefined && typeof o.optional !== 'boolean') {
    throw invalid('reseolioMiddleware option optional must be true or false.');
  }
  return { optional: o.optional === true };
}

export function resolveRouterOptions(options: unknown): ResolvedJobApiOptions<Request> {
  const o = plainObject(options, 'reseolioRouter options');
  knownKeys(o, ['authorize', 'public', 'waitMaxMs'], 'reseolioRouter');
  return resolveJobApiOptions<Request>(o, 'reseolioRouter options');
}

export function resolveShutdownOptions(options: unknown): ResolvedShutdownOptions {
  const o = plainObject(options ?? {}, 'attachShutdown options');
  knownKeys(o, ['signals', 'timeoutMs', 'onShutdown'], 'attachShutdown');
  const signals = o.signals ?? DEFAULT_SIGNALS;
  if (!Array.isArray(signals) || !signals.every((s) => typeof s === 'string' && s.length > 0)) {
    throw invalid(`attachShutdown signals must be an array of signal names such as ['SIGTERM'].`);
  }
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 0 ||
    timeoutMs > MAX_TIMER_MS
  ) {
    throw invalid(
      `attachShutdown timeoutMs must be an integer number of milliseconds from 0 to ` +
        `${MAX_TIMER_MS} (about 24.8 days), got ${describeValue(o.timeoutMs)}.`,
    );
  }
  if (o.onShutdown !== undefined && typeof o.onShutdown !== 'function') {
    throw invalid('attachShutdown onShutdown must be a function.');
  }
  return {
    signals: [...(signals as NodeJS.Signals[])],
    timeoutMs,
    onShutdown: (o.onShutdown as ResolvedShutdownOptions['onShutdown']) ?? null,
  };
}

function plainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${what} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function knownKeys(o: Record<string, unknown>, keys: string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) {
      throw invalid(
        `Unknown ${where} option ${describeValue(key)}; known options: ${keys.join(', ')}.`,
      );
    }
  }
}

function invalid(message: string): ReseolioValidationError {
  return new ReseolioValidationError(message, 'RESEOLIO_INVALID_OPTION');
}
