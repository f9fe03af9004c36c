import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

type Cleanup = () => Promise<void> | void;

/**
 * What a test opened, closed after it in reverse order: call at the top level of a test file.
 * `tempFile()` is a database path in a new folder that goes with the test.
 */
export function useCleanups() {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    tempFile(): string {
      const dir = mkdtempSync(join(tmpdir(), 'reseolio-sqlite-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return join(dir, 'jobs.db');
    },
  };
}
