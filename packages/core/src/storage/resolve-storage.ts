import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeValue, redactUrl } from '../describe-value.ts';
import { StorageConfigError } from '../errors.ts';
import { MemoryStorage } from './memory-storage.ts';
import type { StorageAdapter, StorageCapabilities } from './storage.ts';
import { type StorageProvider, schemeOf } from './storage-provider.ts';

export interface ResolvedStorage {
  adapter: StorageAdapter;
  /** True when the engine created the adapter and must close it. */
  owned: boolean;
}

/**
 * The first-party adapters, by URL scheme. Core knows only their package names: the package
 * itself says how a URL becomes an adapter (its `storageProvider` export).
 */
const ADAPTER_PACKAGES: ReadonlyMap<string, string> = new Map([
  ['postgres', '@reseolio/storage-postgres'],
  ['postgresql', '@reseolio/storage-postgres'],
  ['sqlite', '@reseolio/storage-sqlite'],
]);

/**
 * Turns the `storage` option into an adapter. `memory:` is core's own; a scheme that one of
 * `providers` (the engine's `storageProviders` option) handles is theirs; the first-party
 * schemes import their adapter package lazily, so that an app on PostgreSQL never loads
 * better-sqlite3 and vice versa.
 */
export async function resolveStorage(
  storage: string | StorageAdapter,
  providers: readonly StorageProvider[] = [],
): Promise<ResolvedStorage> {
  if (typeof storage !== 'string') {
    assertAdapter(storage);
    return { adapter: storage, owned: false };
  }
  // URL schemes are case-insensitive (RFC 3986): 'POSTGRES://' and 'SQLite:' route like
  // their lowercase forms, and the adapters accept them too.
  if (storage.toLowerCase() === 'memory:') return { adapter: new MemoryStorage(), owned: true };
  const scheme = schemeOf(storage) ?? '';
  const given = providers.find((p) => p.schemes.includes(scheme));
  if (given) return { adapter: adapterFrom(given, storage), owned: true };
  const name = ADAPTER_PACKAGES.get(scheme);
  if (name !== undefined) {
    const provider = (await importAdapter(name)).storageProvider as StorageProvider | undefined;
    if (
      provider === null ||
      typeof provider !== 'object' ||
      !Array.isArray(provider.schemes) ||
      !provider.schemes.includes(scheme) ||
      typeof provider.fromUrl !== 'function'
    ) {
      throw new StorageConfigError(
        `The installed "${name}" does not export a storageProvider for ${describeValue(`${scheme}:`)} URLs: ` +
          'install the version that matches reseolio.',
      );
    }
    return { adapter: adapterFrom(provider, storage), owned: true };
  }
  throw new StorageConfigError(
    `Unknown storage URL ${scheme ? `scheme ${describeValue(`${scheme}:`, 40)}` : describeValue(redactUrl(storage))}. Use ` +
      "'postgres://user@host/db', 'sqlite:./file.db', 'sqlite::memory:', a storage adapter " +
      "instance, or add the scheme's adapter to the storageProviders option.",
  );
}

function adapterFrom(provider: StorageProvider, url: string): StorageAdapter {
  const adapter: unknown = provider.fromUrl(url);
  assertAdapter(adapter);
  return adapter;
}

/**
 * Imports an adapter package by name. Core does not depend on the adapters (they depend on
 * it), so under a strict layout (pnpm's) the package may not resolve from core's own folder:
 * then it is resolved from the app, by its working directory and then by its entry script's
 * folder (an app started from another directory, `node /srv/app/main.js`).
 */
async function importAdapter(name: string): Promise<Record<string, unknown>> {
  let notFound: unknown;
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (error) {
    if (!isNotFound(error, name)) throw wrapLoadError(name, error);
    notFound = error;
  }
  const entry = process.argv[1];
  const bases = [
    join(process.cwd(), 'noop.js'),
    ...(entry ? [join(dirname(entry), 'noop.js')] : []),
  ];
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve(name);
    } catch (error) {
      if (!isNotFound(error, name)) throw wrapLoadError(name, error);
      notFound = error;
      continue;
    }
    try {
      return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    } catch (error) {
      throw wrapLoadError(name, error);
    }
  }
  throw new StorageConfigError(
    `The storage URL needs the package "${name}", which is not installed. Run \`npm install ${name}\` ` +
      '(or pnpm add / yarn add) in your app.',
    { cause: notFound },
  );
}

function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: string }).code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(name)
  );
}

function wrapLoadError(name: string, error: unknown): StorageConfigError {
  return new StorageConfigError(`Loading "${name}" failed: ${(error as Error).message}`, {
    cause: error,
  });
}

/**
 * Every method the engine calls, checked when the adapter is given, not when a job first needs
 * it: an adapter without `ackMany` used to start, run its jobs, fail every outcome write and
 * run each job again until it died. Typed so that a method added to `StorageAdapter` must be
 * added here too (the `satisfies` below fails to compile otherwise).
 */
const REQUIRED_METHODS = [
  'init',
  'close',
  'enqueue',
  'enqueueMany',
  'claim',
  'heartbeat',
  'ack',
  'ackMany',
  'listExpiredLeases',
  'cancel',
  'retry',
  'purge',
  'getJob',
  'getJobStates',
  'listJobs',
  'countJobs',
  'completions',
  'listAttempts',
  'setProgress',
  'stats',
  'listSteps',
  'recordStep',
  'signal',
  'consumeSignal',
  'upsertSchedule',
  'getSchedule',
  'listSchedules',
  'updateSchedule',
  'deleteSchedule',
  'listDueSchedules',
  'nextScheduleRunAt',
  'fireSchedule',
  'subscribe',
] as const satisfies readonly RequiredMethod[];
type RequiredMethod = {
  [K in keyof StorageAdapter]-?: undefined extends StorageAdapter[K]
    ? never
    : StorageAdapter[K] extends (...args: never[]) => unknown
      ? K
      : never;
}[keyof StorageAdapter];
// Compile-time: the list names every required method.
const _everyMethodListed: Exclude<RequiredMethod, (typeof REQUIRED_METHODS)[number]> extends never
  ? true
  : false = true;
const CAPABILITIES = [
  'crossProcessNotify',
  'multiProcess',
  'leasedEnqueue',
  'flowControl',
] as const satisfies readonly (keyof StorageCapabilities)[];
// Compile-time: the list names every capability.
const _everyCapabilityListed: Exclude<
  keyof StorageCapabilities,
  (typeof CAPABILITIES)[number]
> extends never
  ? true
  : false = true;

export function assertAdapter(value: unknown): asserts value is StorageAdapter {
  const adapter = value as Partial<Record<string, unknown>> | null | undefined;
  const problems: string[] = [];
  if (adapter === null || typeof adapter !== 'object') {
    problems.push('not an object');
  } else {
    const missing = REQUIRED_METHODS.filter((m) => typeof adapter[m] !== 'function');
    if (missing.length > 0) problems.push(`missing ${missing.join(', ')}`);
    if (adapter.currentTime !== undefined && typeof adapter.currentTime !== 'function') {
      problems.push('currentTime is not a function');
    }
    if (typeof adapter.kind !== 'string') problems.push('no kind string');
    const capabilities = adapter.capabilities as Record<string, unknown> | undefined;
    const badCapabilities = CAPABILITIES.filter((c) => typeof capabilities?.[c] !== 'boolean');
    if (badCapabilities.length > 0) {
      problems.push(`capabilities without boolean ${badCapabilities.join(', ')}`);
    }
  }
  if (problems.length > 0) {
    throw new StorageConfigError(
      `The storage option is not a complete storage adapter (${problems.join('; ')}). ` +
        'Pass a URL string or an adapter such as createPostgresStorage(...); an adapter of your ' +
        'own must implement every StorageAdapter method and pass @reseolio/storage-contract.',
    );
  }
}
