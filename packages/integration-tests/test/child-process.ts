import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './helpers.ts';

/** Starts a fixture script with node and resolves its lines of output as they come. */
export function startFixture(script: string, args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url)), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
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
    async waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.find((l) => pattern.test(l));
        if (line) return line;
        if (Date.now() > deadline) throw new Error(`no line matched ${pattern}; stderr: ${stderr}`);
        if (child.exitCode !== null)
          throw new Error(`fixture exited with ${child.exitCode}; stderr: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
