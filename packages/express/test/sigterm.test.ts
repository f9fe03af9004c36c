import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Reseolio } from 'reseolio';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqliteUrl, waitFor } from './helpers.ts';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./fixtures/sigterm-child.mjs', import.meta.url));

describe('attachShutdown in a real process', () => {
  beforeAll(() => {
    // The child runs the built package; make sure dist matches src (incremental, fast when
    // nothing changed).
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-b'], { cwd: packageDir, stdio: 'inherit' });
  }, 60_000);

  it('drains the running job on SIGTERM, then exits 0 with nothing left running', async () => {
    const storage = sqliteUrl();
    const proc = spawn(process.execPath, [child, storage], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    proc.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(() => /listening \d+/.test(stdout), 10_000).catch(() => {
        throw new Error(`child did not start: ${stderr}`);
      });
      const port = /listening (\d+)/.exec(stdout)![1];
      const response = await fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST' });
      const { jobId } = (await response.json()) as { jobId: string };
      await waitFor(() => stdout.includes('job started'));

      proc.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(stdout).toContain('job finished');
      await expect(fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST' })).rejects.toThrow();

      const reader = new Reseolio({ storage, workerConcurrency: 0 });
      try {
        expect(await reader.listJobs({ status: 'running' })).toEqual([]);
        expect(await reader.getHandle(jobId).status()).toBe('success');
      } finally {
        await reader.stop();
      }
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
