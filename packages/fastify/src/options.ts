import type { FastifyRequest } from 'fastify';
import {
  describeValue,
  type Reseolio,
  type ReseolioOptions,
  ReseolioValidationError,
} from 'reseolio';
import { type ResolvedJobApiOptions, resolveJobApiOptions } from 'reseolio/http';
import type { ReseolioPluginOptions } from './types.ts';

/** Where the engine comes from and whether `app.close()` stops it. */
export type EngineSource =
  | { kind: 'owned'; options: ReseolioOptions }
  | { kind: 'borrowed'; instance: Reseolio; close: boolean };

export interface ResolvedRoutesOptions extends ResolvedJobApiOptions<FastifyRequest> {
  prefix: string;
}

export interface ResolvedPluginOptions {
  engine: EngineSource;
  routes: ResolvedRoutesOptions | null;
  stopTimeoutMs: number;
}

const PLUGIN_KEYS = new Set(['instance', 'closeInstance', 'routes', 'stopTimeoutMs']);
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** `engine.stop()` waits with a timer, which cannot wait longer (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Validates the plugin's own options and splits off the engine's. Engine options themselves
 * are validated by `new Reseolio()`, which names the bad option.
 */
export function resolvePluginOptions(
  raw: ReseolioPluginOptions | undefined,
): ResolvedPluginOptions {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('@reseolio/fastify options must be an object.');
  }
  const all = raw as Record<string, unknown>;
  if ('prefix' in all) {
    throw invalid(
      "@reseolio/fastify does not take a prefix: set the job routes' prefix with routes: { prefix }.",
    );
  }
  // An engine option set to undefined is left out, like everywhere else, except `storage`:
  // given but empty (an unset environment variable) it must reach the engine, which refuses
  // it rather than falling back to a local SQLite file.
  const engineOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) {
    if (!PLUGIN_KEYS.has(key) && (value !== undefined || key === 'storage')) {
      engineOptions[key] = value;
    }
  }
  return {
    engine: resolveEngineSource(all, engineOptions),
    routes: resolveRoutes(all.routes),
    stopTimeoutMs: resolveStopTimeout(all.stopTimeoutMs),
  };
}

function resolveEngineSource(
  all: Record<string, unknown>,
  engineOptions: Record<string, unknown>,
): EngineSource {
  const { instance, closeInstance } = all;
  if (instance === undefined) {
    if (closeInstance !== undefined) {
      throw invalid(
        'closeInstance only applies with instance: the plugin stops engines it builds.',
      );
    }
    return { kind: 'owned', options: engineOptions as ReseolioOptions };
  }
  if (!isEngine(instance)) {
    throw invalid('instance must be a Reseolio engine (new Reseolio({ ... })).');
  }
  // Beside an instance, an engine option set to undefined says nothing: it is ignored.
  const extra = Object.keys(engineOptions).filter((key) => engineOptions[key] !== undefined);
  if (extra.length > 0) {
    throw invalid(
      `Give either instance or engine options, not both (got ${extra.join(', ')}): ` +
        'configure the instance when you construct it.',
    );
  }
  if (closeInstance !== undefined && typeof closeInstance !== 'boolean') {
    throw invalid('closeInstance must be true or false.');
  }
  return { kind: 'borrowed', instance, close: closeInstance === true };
}

function resolveRoutes(routes: unknown): ResolvedRoutesOptions | null {
  if (routes === undefined || routes === false) return null;
  const api = resolveJobApiOptions<FastifyRequest>(routes, 'routes');
  const prefix = (routes as { prefix?: unknown }).prefix ?? '/jobs';
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
    throw invalid(`routes.prefix must be a path starting with "/", got ${describeValue(prefix)}.`);
  }
  return { ...api, prefix };
}

function resolveStopTimeout(value: unknown): number {
  if (value === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw invalid(
      `stopTimeoutMs must be an integer number of milliseconds from 0 to ${MAX_TIMER_MS} ` +
        `(about 24.8 days), got ${describeValue(value)}.`,
    );
  }
  return value;
}

/**
 * Duck-typed rather than `instanceof`: two copies of `reseolio` in one app (a bundling
 * mistake) would otherwise fail with a message that hides the real cause.
 */
function isEngine(value: unknown): value is Reseolio {
  const engine = value as Partial<Reseolio> | null;
  return (
    typeof engine === 'object' &&
    engine !== null &&
    typeof engine.init === 'function' &&
    typeof engine.start === 'function' &&
    typeof engine.stop === 'function' &&
    typeof engine.durable === 'function'
  );
}

function invalid(message: string): ReseolioValidationError {
  return new ReseolioValidationError(message, 'RESEOLIO_INVALID_OPTION');
}
