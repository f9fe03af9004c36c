import { hostname } from 'node:os';
import { describeValue } from './describe-value.ts';
import { ReseolioValidationError, StorageConfigError } from './errors.ts';
import type { JobFilter, JobStatus } from './storage/records.ts';
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

/**
 * The latest time Reseolio stores, in epoch milliseconds: 9999-12-31T23:59:59.999Z. Every
 * stored time is an integer from 0 (1970-01-01T00:00:00.000Z) to this. Beyond year 9999
 * `Date` loses its ISO form, and beyond ±8.64e15 it is an Invalid Date: such a job could be
 * stored but never shown (`details()`, the job routes) again.
 */
export const MAX_TIME_MS = 253_402_300_799_999;
/**
 * The longest wait that is a timer (attempt timeouts, `result(timeoutMs)`, `stop()`'s drain,
 * leases and polling), in milliseconds: about 24.8 days. Node's `setTimeout` fires at once,
 * with only a warning, when asked to wait longer.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The longest delay between two attempts, in milliseconds (365 days). */
export const MAX_RETRY_DELAY_MS = 365 * 24 * 60 * 60 * 1000;
/**
 * The longest idempotency key, in UTF-16 code units. PostgreSQL indexes (name, key) in a
 * B-tree, whose entries must stay under about 2700 bytes: 512 units are at most 1536 bytes of
 * UTF-8, which leaves room for the 200-character name.
 */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 512;
/** `listJobs` page bounds. The offset bound is where both SQL databases still agree. */
export const MAX_LIST_LIMIT = 1000;
export const MAX_LIST_OFFSET = Number.MAX_SAFE_INTEGER;
const DEFAULT_STORAGE = 'sqlite:./reseolio.db';
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_LIST_LIMIT = 100;
const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'success', 'dead', 'cancelled'];
const TIMER_RANGE = 'about 24.8 days, the longest a Node.js timer waits';
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
  const storage = resolveStorageOption(options);
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
  // Stored as the owner of every lease this process takes, so it must be storable text.
  if (
    typeof workerId !== 'string' ||
    workerId.length === 0 ||
    workerId.length > 200 ||
    unstorableText(workerId) !== undefined
  ) {
    throw invalid(
      'workerId',
      workerId,
      'a non-empty string of at most 200 characters, without NUL or unpaired surrogates',
    );
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
    // Only moves a purge cut-off (now - retentionMs) into the past; nothing stores it, so any
    // safe integer works and a huge one keeps jobs as long as 0 does.
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

/**
 * `storage` left out means the embedded default. Given but empty (`undefined`, `null`, `''`)
 * is almost always an unset environment variable (`storage: process.env.DATABASE_URL`):
 * falling back to a local SQLite file then would run production jobs on the wrong database
 * without a word, so it is an error.
 */
function resolveStorageOption(options: ReseolioOptions): string | StorageAdapter {
  if (!Object.hasOwn(options, 'storage')) return DEFAULT_STORAGE;
  const storage: unknown = options.storage;
  if (
    storage === undefined ||
    storage === null ||
    (typeof storage === 'string' && storage.trim() === '')
  ) {
    throw new StorageConfigError(
      `The Reseolio option "storage" is ${describeValue(storage)}; was it read from an unset ` +
        'environment variable (storage: process.env.DATABASE_URL)? Pass a storage URL such as ' +
        "'postgres://user@host/db' or 'sqlite:./jobs.db', or an adapter instance; or leave the " +
        `option out to use the SQLite default '${DEFAULT_STORAGE}'.`,
    );
  }
  if (typeof storage !== 'string' && typeof storage !== 'object') {
    throw invalid('storage', storage, 'a storage URL string or a StorageAdapter instance');
  }
  return storage as string | StorageAdapter;
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
    // A retry is stored as now + delay: the cap keeps that a real date.
    maxDelayMs: integer(o, 'maxDelayMs', base.maxDelayMs, 0, MAX_RETRY_DELAY_MS, where),
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

/** Validates per-call options (the retry part is validated when it is merged). */
export function validateCallOptions(options: CallOptions): CallOptions {
  assertPlainObject(options, 'call options');
  assertKnownKeys(options as Record<string, unknown>, CALL_OPTION_KEYS, 'call option');
  const { idempotencyKey, delayMs, runAt } = options;
  if (idempotencyKey !== undefined) validateIdempotencyKey(idempotencyKey);
  if (delayMs !== undefined) integer(options, 'delayMs', 0, 0, MAX_TIME_MS, 'call options');
  if (runAt !== undefined) {
    // Fractions are refused rather than truncated: storage keeps whole milliseconds, and a
    // fraction usually means seconds and milliseconds were mixed up somewhere.
    const ms = runAt instanceof Date ? runAt.getTime() : runAt;
    if (!isIntegerIn(ms, 0, MAX_TIME_MS)) {
      throw invalid(
        'runAt',
        runAt,
        `a valid Date or an integer of epoch milliseconds from 0 (${new Date(0).toISOString()}) ` +
          `to ${MAX_TIME_MS} (${new Date(MAX_TIME_MS).toISOString()})`,
        'call options',
      );
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

/**
 * When a job becomes due, in epoch milliseconds, for options already validated by
 * {@link validateCallOptions}. `delayMs` is checked once more against `now`: the sum must
 * stay a storable time too.
 */
export function runAtOf(options: CallOptions, now: number): number {
  const { runAt, delayMs = 0 } = options;
  if (runAt !== undefined) return runAt instanceof Date ? runAt.getTime() : runAt;
  if (now + delayMs > MAX_TIME_MS) {
    throw invalid(
      'delayMs',
      delayMs,
      `an integer from 0 to ${MAX_TIME_MS - now}, so that now + delayMs stays at most ` +
        `${new Date(MAX_TIME_MS).toISOString()}`,
      'call options',
    );
  }
  return now + delayMs;
}

/**
 * Idempotency keys are compared by storage, so a key must mean the same on every adapter.
 * PostgreSQL cannot store NUL in text, and its driver encodes an unpaired surrogate as U+FFFD,
 * which makes distinct keys equal ('\uD800' and '\uDBFF' would be one job); SQLite keeps
 * both as given. Refusing them here gives one answer everywhere.
 */
function validateIdempotencyKey(key: unknown): void {
  const expected =
    `a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, without NUL ` +
    'or unpaired surrogates: build keys from ids you control, such as "charge-" + the order id';
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw invalid('idempotencyKey', key, expected, 'call options');
  }
  const problem = unstorableText(key);
  if (problem !== undefined) {
    throw new ReseolioValidationError(
      `Invalid call options "idempotencyKey": got ${describeValue(key)}, which ${problem}. ` +
        `Expected ${expected}.`,
      'RESEOLIO_INVALID_OPTION',
    );
  }
}

/** An unpaired UTF-16 surrogate: half of a pair, which is not a Unicode character. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` would not be stored as given by every adapter, or `undefined` when it would.
 * PostgreSQL refuses NUL in text and turns unpaired surrogates into U+FFFD; SQLite keeps both.
 */
export function unstorableText(text: string): string | undefined {
  if (text.includes('\u0000')) {
    return 'contains a NUL character (\\u0000), which PostgreSQL cannot store in text';
  }
  if (LONE_SURROGATE.test(text)) {
    return (
      'contains an unpaired surrogate (half of a UTF-16 pair, not a Unicode character), ' +
      'which PostgreSQL would store as U+FFFD'
    );
  }
  return undefined;
}

/**
 * The keys of a trailing argument that are not call options, when it was read as call options
 * (it has at least one call-option key). Non-empty means it was most likely the handler's own
 * object argument.
 */
export function foreignCallOptionKeys(value: object): string[] {
  return Object.keys(value).filter((key) => !(CALL_OPTION_KEYS as readonly string[]).includes(key));
}

/** `result(timeoutMs)`: an integer of milliseconds that a timer can wait, or `undefined`. */
export function validateResultTimeout(timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (!isIntegerIn(timeoutMs, 0, MAX_TIMER_MS)) {
    throw invalid(
      'timeoutMs',
      timeoutMs,
      `an integer from 0 to ${MAX_TIMER_MS} milliseconds (${TIMER_RANGE}); leave it out to wait ` +
        'as long as the job takes',
      'result()',
    );
  }
}

/** `stop({ timeoutMs })`: the drain deadline in milliseconds. */
export function resolveStopTimeout(options: unknown): number {
  if (options === undefined) return DEFAULT_STOP_TIMEOUT_MS;
  assertPlainObject(options, 'stop() options');
  assertKnownKeys(options as Record<string, unknown>, ['timeoutMs'], 'stop() option');
  return integer(
    options,
    'timeoutMs',
    DEFAULT_STOP_TIMEOUT_MS,
    0,
    MAX_TIMER_MS,
    'stop() options',
    ` milliseconds (${TIMER_RANGE})`,
  );
}
/** `listJobs(filter)`: validated, without `undefined` entries, `limit` and `offset` filled. */
export function resolveListFilter(filter: unknown): JobFilter & { limit: number; offset: number } {
  if (filter === undefined) return { limit: DEFAULT_LIST_LIMIT, offset: 0 };
  assertPlainObject(filter, 'listJobs() filter');
  const f = filter as Record<string, unknown>;
  assertKnownKeys(f, ['status', 'name', 'parentId', 'limit', 'offset'], 'listJobs() filter');
  const resolved: JobFilter & { limit: number; offset: number } = {
    limit: integer(f, 'limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT, 'listJobs() filter'),
    offset: integer(f, 'offset', 0, 0, MAX_LIST_OFFSET, 'listJobs() filter'),
  };
  if (f.status !== undefined) {
    const statuses = Array.isArray(f.status) ? f.status : [f.status];
    if (!statuses.every((s) => JOB_STATUSES.includes(s as JobStatus))) {
      throw invalid(
        'status',
        f.status,
        `one of ${JOB_STATUSES.map((s) => `'${s}'`).join(', ')}, or an array of them`,
        'listJobs() filter',
      );
    }
    resolved.status = f.status as JobStatus | JobStatus[];
  }
  // Compared by storage: text that an adapter cannot store as given must not reach it.
  for (const key of ['name', 'parentId'] as const) {
    const value = f[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || unstorableText(value) !== undefined) {
      throw invalid(key, value, 'a string without NUL or unpaired surrogates', 'listJobs() filter');
    }
    resolved[key] = value;
  }
  return resolved;
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

/**
 * A durable function name: 1–200 characters of letters, digits, `_ . - @`, joined by `:`.
 * ASCII only, so NUL and unpaired surrogates (which adapters store differently) never pass.
 */
export function validateFunctionName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 200 ||
    !NAME_PATTERN.test(name)
  ) {
    throw new ReseolioValidationError(
      `Invalid durable function name ${describeValue(name)}: use 1-200 characters of letters, ` +
        "digits, '_', '.', '-', '@', in parts joined by ':' (reseolio.namespace('orders', 'charge')).",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return name;
}

export function validateNamespacePart(part: unknown, index: number): string {
  // A whole name is at most 200 characters, so a longer part can never make one.
  if (typeof part !== 'string' || part.length > 200 || !PART_PATTERN.test(part)) {
    throw new ReseolioValidationError(
      `Invalid namespace part ${index + 1} ${describeValue(part)}: parts are 1-200 characters ` +
        "of letters, digits, '_', '.', '-', '@' (no ':' or '/').",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return part;
}

/**
 * An optional integer option: `undefined` gives `fallback`. The range is inclusive; `unit`
 * follows it in the message.
 */
function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function integer(
  options: Record<string, unknown> | object,
  key: string,
  fallback: number,
  min: number,
  max: number,
  where = 'Reseolio options',
  unit = key.endsWith('Ms') ? ' milliseconds' : '',
): number {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return fallback;
  if (!isIntegerIn(value, min, max)) {
    throw invalid(key, value, `an integer from ${min} to ${max}${unit}`, where);
  }
  return value;
}

/** The error for one bad option: where, which key, the value given (shortened), what fits. */
function invalid(key: string, value: unknown, expected: string, where = 'Reseolio options') {
  return new ReseolioValidationError(
    `Invalid ${where} "${key}": got ${describeValue(value)}, expected ${expected}.`,
    'RESEOLIO_INVALID_OPTION',
  );
}

function assertPlainObject(value: unknown, what: string): asserts value is object {
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
        `Unknown ${what} ${describeValue(key)}. Known: ${known.join(', ')}.`,
        'RESEOLIO_INVALID_OPTION',
      );
    }
  }
}
