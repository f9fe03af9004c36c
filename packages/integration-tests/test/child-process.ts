import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@reseolio/test-utils';
import { onCleanup } from './helpers.ts';

/**
 * Starts a fixture script with node and resolves its lines of output as they come. With
 * `ipc`, the child also has an IPC channel (`child.send`, `process.on('message')`).
 */
export function startFixture(script: string, args: string[], { ipc = false } = {}) {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)), ...args],
    {
      stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    },
  );
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  let stderr = '';
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    /** Resolves the first line that matches, or rejects after `timeoutMs`. */
    waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
      return waitFor(
        () => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined && child.exitCode !== null) {
            throw new Error(`fixture exited with ${child.exitCode}; stderr: ${stderr}`);
          }
          return line;
        },
        { timeoutMs, what: () => `a line matching ${pattern}; stderr: ${stderr}` },
      );
    },
  };
}
