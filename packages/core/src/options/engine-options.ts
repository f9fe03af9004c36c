import { hostname } from 'node:os';
import { describeValue } from '../describe-value.ts';
import { StorageConfigError } from '../errors.ts';
import type { StorageAdapter } from '../storage/storage.ts';
import type { StorageProvider } from '../storage/storage-provider.ts';
import { type ResolvedTelemetry, resolveTelemetryOptions } from '../telemetry/telemetry-options.ts';
import type { Logger, ReseolioOptions, ResolvedRetryPolicy } from '../types.ts';
import { MAX_TIMER_MS } from './bounds.ts';
import { consoleLogger, DEFAULT_RETRY_POLICY, DEFAULT_STORAGE } from './defaults.ts';
import { resolveRetryPolicy } from './retry-policy.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  unstorableText,
} from './validators.ts';

/** `new Reseolio(options)`: every engine option checked once, with its default filled in. */

const ENGINE_KEYS: readonly (keyof ReseolioOptions)[] = [
  'storage',
  'storageProviders',
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
  'suspendAfterMs',
  'telemetry',
];

export interface ResolvedOptions {
  storage: string | StorageAdapter;
  storageProviders: readonly StorageProvider[];
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
  suspendAfterMs: number;
  telemetry: ResolvedTelemetry;
}

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
    storageProviders: resolveStorageProviders(options.storageProviders),
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
    suspendAfterMs: integer(options, 'suspendAfterMs', 5_000, 0, MAX_TIMER_MS),
    telemetry: resolveTelemetryOptions(options.telemetry),
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

/** Each provider must name its schemes as a URL spells them (lowercase) and make adapters. */
function resolveStorageProviders(providers: unknown): readonly StorageProvider[] {
  if (providers === undefined) return [];
  const expected = "an array of storage providers: { schemes: ['mysql'], fromUrl(url) }";
  if (!Array.isArray(providers)) throw invalid('storageProviders', providers, expected);
  for (const provider of providers as unknown[]) {
    const { schemes, fromUrl } = (provider ?? {}) as Partial<StorageProvider>;
    if (
      typeof provider !== 'object' ||
      typeof fromUrl !== 'function' ||
      !Array.isArray(schemes) ||
      schemes.length === 0 ||
      !schemes.every((s) => typeof s === 'string' && /^[a-z][a-z0-9+.-]*$/.test(s))
    ) {
      throw invalid(
        'storageProviders',
        provider,
        `${expected}, each scheme lowercase and without the colon`,
      );
    }
  }
  return Object.freeze([...(providers as StorageProvider[])]);
}
