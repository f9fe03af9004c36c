import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CliRun, engineOn, reseolio, sqliteTarget } from './helpers.ts';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

/**
 * Runs `reseolio …args` on a pseudo-terminal (util-linux `script`), typing `answer`: the way a
 * person at a terminal runs it, so the bulk form asks before changing anything.
 */
function onTerminal(args: readonly string[], answer: string): Promise<CliRun> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`);
  return new Promise((resolve) => {
    const child = execFile(
      'script',
      ['--quiet', '--return', '--command', command.join(' '), '/dev/null'],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 50_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? ((error as { code?: unknown }).code as number) : 0,
          stdout,
          stderr,
        });
      },
    );
    child.stdin?.end(`${answer}\n`);
  });
}

describe('the bulk confirmation on a terminal', () => {
  it('changes nothing when the answer is no, and every matching job when it is yes', async () => {
    const target = sqliteTarget();
    expect((await reseolio(['migrate', ...target.args])).code).toBe(0);
    const engine = await engineOn(target);
    const jobs = await Promise.all(
      [1, 2].map((n) => engine.enqueue('reports:build', [n], { delayMs: 3_600_000 })),
    );
    const args = [
      'jobs',
      'cancel',
      '--status',
      'pending',
      '--name',
      'reports:build',
      ...target.args,
    ];

    const declined = await onTerminal(args, 'n');
    expect(declined.code, declined.stdout).toBe(1);
    expect(declined.stdout).toContain(
      'Cancel 2 jobs (status pending, function reports:build)? [y/N]',
    );
    expect(declined.stdout).toContain('Not confirmed: nothing changed.');
    for (const job of jobs) expect(await job.status()).toBe('pending');

    const confirmed = await onTerminal(args, 'y');
    expect(confirmed.code, confirmed.stdout).toBe(0);
    expect(confirmed.stdout).toContain('Cancelled 2 jobs.');
    for (const job of jobs) expect(await job.status()).toBe('cancelled');
  });
});
