import { hostname } from 'node:os';
import { ReseolioValidationError } from './errors.ts';
import type { StorageAdapter } from './storage/storage.ts';
import {
  type BackoffKind,
  CALL_OPTION_KEYS,
  type CallOptions,
  type Logger,
  type ReseolioOptions,
  type ResolvedRetryPolicy,
  type RetryOptions,
} from './types.ts';

/**
 * Validates every option once, at the edge, and fills defaults; the rest of the engine only
 * sees resolved values. Each error names the option, the bad value and what is accepted.
 */

export const DEFAULT_RETRY_POLICY: Readonly<ResolvedRetryPolicy> = Object.freeze({
  maxAttempts: 3,
  backoff: 'exponential',
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  jitter: 0.1,
  timeoutMs: 30_000,
});

/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const BACKOFF_KINDS: readonly BackoffKind[] = ['exponential', 'linear', 'fixed'];
const RETRY_KEYS: readonly (keyof RetryOptions)[] = [
  'maxAttempts',
  'backoff',
  'initialDelayMs',
  'maxDelayMs',
  'jitter',
  'timeoutMs',
];

/** Whether call options override any retry setting (if not, the registration's policy is reused). */
export function hasRetryOption(options: object): boolean {
  return RETRY_KEYS.some((key) => (options as Record<string, unknown>)[key] !== undefined);
}

const ENGINE_KEYS: readonly (keyof ReseolioOptions)[] = [
  'storage',
  'workerConcurrency',
  'leaseMs',
  'heartbeatIntervalMs',
  'pollIntervalMs',
  'maxPayloadBytes',
  'retentionMs',
  'defaults',
  'workerId',
  'logger',
  'handleSignals',
];

export interface ResolvedOptions {
  storage: string | StorageAdapter;
  workerConcurrency: number;
  leaseMs: number;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
  maxPayloadBytes: number;
  retentionMs: number;
  defaults: ResolvedRetryPolicy;
  workerId: string;
  logger: Logger;
  handleSignals: boolean;
}

const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, ...meta) => console.warn(`[reseolio] ${message}`, ...meta),
  error: (message, ...meta) => console.error(`[reseolio] ${message}`, ...meta),
};

export function resolveEngineOptions(options: ReseolioOptions = {}): ResolvedOptions {
  assertPlainObject(options, 'Reseolio options');
  assertKnownKeys(options as Record<string, unknown>, ENGINE_KEYS, 'Reseolio option');
  const storage = options.storage ?? 'sqlite:./reseolio.db';
  if (typeof storage !== 'string' && (typeof storage !== 'object' || storage === null)) {
    throw invalid('storage', storage, 'a storage URL string or a StorageAdapter instance');
  }
  const leaseMs = integer(options, 'leaseMs', 30_000, 100, MAX_TIMER_MS);
  const heartbeatIntervalMs = integer(
    options,
    'heartbeatIntervalMs',
    Math.max(1, Math.floor(leaseMs / 3)),
    1,
    leaseMs - 1,
  );
  const logger = options.logger ?? consoleLogger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') {
      throw invalid('logger', logger, 'an object with debug, info, warn and error methods');
    }
  }
  const workerId =
    options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  if (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > 200) {
    throw invalid('workerId', workerId, 'a non-empty string of at most 200 characters');
  }
  if (options.handleSignals !== undefined && typeof options.handleSignals !== 'boolean') {
    throw invalid('handleSignals', options.handleSignals, 'true or false');
  }
  return {
    storage,
    workerConcurrency: integer(options, 'workerConcurrency', 10, 0, 10_000),
    leaseMs,
    heartbeatIntervalMs,
    pollIntervalMs: integer(options, 'pollIntervalMs', 1000, 10, MAX_TIMER_MS),
    maxPayloadBytes: integer(options, 'maxPayloadBytes', 1 << 20, 1, 2 ** 30),
    retentionMs: integer(
      options,
      'retentionMs',
      7 * 24 * 60 * 60 * 1000,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    defaults: resolveRetryPolicy(DEFAULT_RETRY_POLICY, options.defaults ?? {}, 'defaults'),
    workerId,
    logger,
    handleSignals: options.handleSignals ?? false,
  };
}

/** Merges `overrides` (validated) over an already valid policy. */
export function resolveRetryPolicy(
  base: Readonly<ResolvedRetryPolicy>,
  overrides: RetryOptions,
  where: string,
): ResolvedRetryPolicy {
  const o = overrides as Record<string, unknown>;
  const policy: ResolvedRetryPolicy = {
    maxAttempts: integer(o, 'maxAttempts', base.maxAttempts, 1, 10_000, where),
    backoff: base.backoff,
    initialDelayMs: integer(o, 'initialDelayMs', base.initialDelayMs, 0, MAX_TIMER_MS, where),
    maxDelayMs: integer(o, 'maxDelayMs', base.maxDelayMs, 0, Number.MAX_SAFE_INTEGER, where),
    jitter: base.jitter,
    timeoutMs: integer(o, 'timeoutMs', base.timeoutMs, 1, MAX_TIMER_MS, where),
  };
  if (o.backoff !== undefined) {
    if (!BACKOFF_KINDS.includes(o.backoff as BackoffKind)) {
      throw invalid(
        'backoff',
        o.backoff,
        `one of ${BACKOFF_KINDS.map((k) => `'${k}'`).join(', ')}`,
        where,
      );
    }
    policy.backoff = o.backoff as BackoffKind;
  }
  if (o.jitter !== undefined) {
    if (typeof o.jitter !== 'number' || !(o.jitter >= 0 && o.jitter <= 1)) {
      throw invalid('jitter', o.jitter, 'a number from 0 (no jitter) to 1', where);
    }
    policy.jitter = o.jitter;
  }
  return policy;
}

/** Validates registration options (retry keys only). */
export function validateDurableOptions(options: unknown): RetryOptions {
  if (options === undefined) return {};
  assertPlainObject(options, 'durable() options');
  assertKnownKeys(options as Record<string, unknown>, RETRY_KEYS, 'durable() option');
  return options as RetryOptions;
}

/** Validates per-call options; returns the retry part separately. */
export function validateCallOptions(options: CallOptions): CallOptions {
  assertPlainObject(options, 'call options');
  assertKnownKeys(options as Record<string, unknown>, CALL_OPTION_KEYS, 'call option');
  const { idempotencyKey, delayMs, runAt } = options;
  if (idempotencyKey !== undefined) {
    if (
      typeof idempotencyKey !== 'string' ||
      idempotencyKey.length === 0 ||
      idempotencyKey.length > 512
    ) {
      throw invalid(
        'idempotencyKey',
        idempotencyKey,
        'a non-empty string of at most 512 characters',
        'call options',
      );
    }
  }
  if (delayMs !== undefined && !(Number.isInteger(delayMs) && delayMs >= 0)) {
    throw invalid('delayMs', delayMs, 'an integer number of milliseconds >= 0', 'call options');
  }
  if (runAt !== undefined) {
    const ms = runAt instanceof Date ? runAt.getTime() : runAt;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw invalid('runAt', runAt, 'a valid Date or epoch milliseconds', 'call options');
    }
  }
  if (delayMs !== undefined && runAt !== undefined) {
    throw new ReseolioValidationError(
      'Give either delayMs or runAt in call options, not both.',
      'RESEOLIO_INVALID_OPTION',
    );
  }
  return options;
}

/** True when a trailing argument should be read as per-call options. */
export function isCallOptions(value: unknown): value is CallOptions {
  if (!isPlainObject(value)) return false;
  return CALL_OPTION_KEYS.some((key) => Object.hasOwn(value, key));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const NAME_PATTERN = /^[A-Za-z0-9_.\-@]+(:[A-Za-z0-9_.\-@]+)*$/;
const PART_PATTERN = /^[A-Za-z0-9_.\-@]+$/;

/** A durable function name: 1–200 characters of letters, digits, `_ . - @`, joined by `:`. */
export function validateFunctionName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 200 ||
    !NAME_PATTERN.test(name)
  ) {
    throw new ReseolioValidationError(
      `Invalid durable function name ${JSON.stringify(name)}: use 1-200 characters of letters, ` +
        "digits, '_', '.', '-', '@', in parts joined by ':' (reseolio.namespace('orders', 'charge')).",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return name;
}

export function validateNamespacePart(part: unknown, index: number): string {
  if (typeof part !== 'string' || !PART_PATTERN.test(part)) {
    throw new ReseolioValidationError(
      `Invalid namespace part ${index + 1} ${JSON.stringify(part)}: parts are non-empty and use ` +
        "letters, digits, '_', '.', '-', '@' (no ':' or '/').",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return part;
}

function integer(
  options: Record<string, unknown> | object,
  key: string,
  fallback: number,
  min: number,
  max: number,
  where = 'Reseolio options',
): number {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(key, value, `an integer from ${min} to ${max}`, where);
  }
  return value;
}

function invalid(key: string, value: unknown, expected: string, where = 'Reseolio options') {
  let shown: string;
  try {
    shown =
      typeof value === 'object' && value !== null
        ? Object.prototype.toString.call(value)
        : String(value);
  } catch {
    shown = typeof value;
  }
  return new ReseolioValidationError(
    `Invalid ${where} "${key}": got ${shown}, expected ${expected}.`,
    'RESEOLIO_INVALID_OPTION',
  );
}

function assertPlainObject(value: unknown, what: string): void {
  if (!isPlainObject(value)) {
    throw new ReseolioValidationError(`${what} must be a plain object.`, 'RESEOLIO_INVALID_OPTION');
  }
}

function assertKnownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ReseolioValidationError(
        `Unknown ${what} "${key}". Known: ${known.join(', ')}.`,
        'RESEOLIO_INVALID_OPTION',
      );
    }
  }
}
