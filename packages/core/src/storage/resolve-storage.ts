import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeValue, redactUrl } from '../describe-value.ts';
import { StorageConfigError } from '../errors.ts';
import { MemoryStorage } from './memory-storage.ts';
import type { StorageAdapter } from './storage.ts';

export interface ResolvedStorage {
  adapter: StorageAdapter;
  /** True when the engine created the adapter and must close it. */
  owned: boolean;
}

/**
 * Turns the `storage` option into an adapter. URL adapters are imported lazily so that an app
 * on PostgreSQL never loads better-sqlite3 and vice versa. Both adapter packages are optional
 * peer dependencies of `reseolio`, which is what lets pnpm's strict layout link them next to
 * us; the fallback resolves from the app's working directory for layouts that don't.
 */
export async function resolveStorage(storage: string | StorageAdapter): Promise<ResolvedStorage> {
  if (typeof storage !== 'string') {
    assertAdapter(storage);
    return { adapter: storage, owned: false };
  }
  // URL schemes are case-insensitive (RFC 3986): 'POSTGRES://' and 'SQLite:' route like
  // their lowercase forms, and the adapters accept them too.
  if (storage.toLowerCase() === 'memory:') return { adapter: new MemoryStorage(), owned: true };
  if (/^postgres(ql)?:\/\//i.test(storage)) {
    const mod = await importAdapter('@reseolio/storage-postgres');
    return {
      adapter: callFactory(mod, 'createPostgresStorage', { connectionString: storage }),
      owned: true,
    };
  }
  if (/^sqlite:/i.test(storage)) {
    const filename = sqliteFilename(storage);
    const mod = await importAdapter('@reseolio/storage-sqlite');
    return { adapter: callFactory(mod, 'createSqliteStorage', { filename }), owned: true };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(storage)?.[1];
  throw new StorageConfigError(
    `Unknown storage URL ${scheme ? `scheme ${describeValue(`${scheme}:`, 40)}` : describeValue(redactUrl(storage))}. Use ` +
      "'postgres://user@host/db', 'sqlite:./file.db', 'sqlite::memory:' or a storage adapter instance.",
  );
}

/** `sqlite:./a.db`, `sqlite://./a.db`, `sqlite:///abs/a.db`, `sqlite::memory:` → a filename. */
export function sqliteFilename(url: string): string {
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  if (rest === ':memory:') return rest;
  if (rest.length === 0) {
    throw new StorageConfigError(
      `The SQLite URL ${describeValue(url)} has no file name: use 'sqlite:./file.db'.`,
    );
  }
  return rest;
}

async function importAdapter(name: string): Promise<Record<string, unknown>> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (error) {
    if (!isNotFound(error, name)) throw wrapLoadError(name, error);
  }
  try {
    const fromApp = createRequire(join(process.cwd(), 'noop.js')).resolve(name);
    return (await import(pathToFileURL(fromApp).href)) as Record<string, unknown>;
  } catch (error) {
    if (!isNotFound(error, name)) throw wrapLoadError(name, error);
    throw new StorageConfigError(
      `The storage URL needs the package "${name}", which is not installed. Run \`npm install ${name}\` ` +
        '(or pnpm add / yarn add) in your app.',
      { cause: error },
    );
  }
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

function callFactory(
  mod: Record<string, unknown>,
  factory: string,
  options: object,
): StorageAdapter {
  const create = mod[factory];
  if (typeof create !== 'function') {
    throw new StorageConfigError(
      `The installed adapter does not export ${factory}(): is its version compatible?`,
    );
  }
  const adapter = create(options) as StorageAdapter;
  assertAdapter(adapter);
  return adapter;
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
const CAPABILITIES = ['crossProcessNotify', 'multiProcess', 'leasedEnqueue'] as const;

function assertAdapter(value: unknown): asserts value is StorageAdapter {
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
