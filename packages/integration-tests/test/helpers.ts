import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reseolio, type ReseolioOptions } from 'reseolio';
import { afterEach } from 'vitest';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh directory for this test, removed afterwards. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'reseolio-it-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A `sqlite:` URL to a fresh database file. */
export function sqliteUrl(): string {
  return `sqlite:${join(tempDir(), 'jobs.db')}`;
}

/**
 * An engine on `storage` (a fresh SQLite file by default) with quick retries, stopped after
 * the test. The URL form goes through the lazy adapter import, as users' apps do.
 */
export function engineOn(storage: string = sqliteUrl(), options: ReseolioOptions = {}): Reseolio {
  const engine = new Reseolio({
    storage,
    pollIntervalMs: 100,
    defaults: { initialDelayMs: 20, jitter: 0 },
    ...options,
  });
  cleanups.push(() => engine.stop({ timeoutMs: 500 }));
  return engine;
}

/** Registers a cleanup to run after the test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
