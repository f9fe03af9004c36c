import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Builds the package: fixtures load `dist/` as an installed app would. Call in `beforeAll`
 * (with a generous timeout) of every file that starts fixtures.
 */
export function buildPackage(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', PACKAGE_DIR], { stdio: 'inherit' });
}

/**
 * Starts `test/fixtures/<script>` in its own Node process, stdin and stdout piped; `onCleanup`
 * receives the function that kills it if it is still running when the test ends.
 */
export function startFixture(
  script: string,
  args: string[],
  onCleanup: (cleanup: () => void) => void,
): ChildProcess {
  const file = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
  const child = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return child;
}

/** Resolves with the first stdout line matching `match`; rejects if the process ends first. */
export function lineFrom(child: ChildProcess, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const found = lines.find(match);
      if (found !== undefined) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve(found);
      }
    };
    const onExit = (code: number | null) => reject(new Error(`fixture exited (${code}) early`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
