/**
 * What a user's app gets from the registry: the packed tarballs of `reseolio` and
 * `@reseolio/storage-sqlite`, installed by pnpm in its strict (isolated) layout into a fresh
 * app. The `sqlite:` URL makes core `import()` the adapter lazily. Core does not depend on
 * the adapters (they depend on core): the import finds the adapter because pnpm's virtual
 * store lies inside the app's node_modules, so resolving upwards from core reaches the app's
 * own dependencies. The app runs from another working directory, so the fallback that resolves
 * from `process.cwd()` plays no part. A second app without the adapter gets an error that
 * names the package to install.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const packagesDir = fileURLToPath(new URL('../..', import.meta.url));
let tarballs: { core: string; sqlite: string };
let outside: string;

function run(command: string, args: string[], cwd: string): string {
  try {
    // A user's shell, not ours: no NODE_PATH or other resolution hints from the test runner.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    return execFileSync(command, args, {
      cwd,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout}\n${stderr}`);
  }
}

function makeApp(dependencies: Record<string, string>, script: string): string {
  const app = tempDir();
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'user-app',
      private: true,
      type: 'module',
      dependencies,
      pnpm: { onlyBuiltDependencies: ['better-sqlite3'] },
    }),
  );
  writeFileSync(join(app, 'app.mjs'), script);
  run('pnpm', ['install', '--prefer-offline', '--config.node-linker=isolated'], app);
  return app;
}

beforeAll(() => {
  // Made here, not with tempDir(): those are removed after each test.
  const packs = mkdtempSync(join(tmpdir(), 'reseolio-packs-'));
  const outsideDir = mkdtempSync(join(tmpdir(), 'reseolio-cwd-'));
  for (const pkg of ['core', 'storage-sqlite']) {
    run('pnpm', ['pack', '--pack-destination', packs], join(packagesDir, pkg));
  }
  const { version } = JSON.parse(
    readFileSync(join(packagesDir, 'core', 'package.json'), 'utf8'),
  ) as { version: string };
  tarballs = {
    core: join(packs, `reseolio-${version}.tgz`),
    sqlite: join(packs, `reseolio-storage-sqlite-${version}.tgz`),
  };
  outside = outsideDir;
  return () => {
    rmSync(packs, { recursive: true, force: true });
    rmSync(outsideDir, { recursive: true, force: true });
  };
}, 240_000);

/** The package.json inside a packed tarball: what the registry would serve. */
function packedManifest(tarball: string): {
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
} {
  return JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], outside));
}

/**
 * Whether a caret range (`^0.2.0`, as pnpm writes `workspace:^`) admits `version`. On 0.x a
 * caret pins the minor: `^0.1.0` admits 0.1.3, `^0.2.0` does not.
 */
function caretAdmits(range: string, version: string): boolean {
  const [major, minor, patch] = range.replace(/^\^/, '').split('.').map(Number) as [
    number,
    number,
    number,
  ];
  const [vMajor, vMinor, vPatch] = version.split('.').map(Number) as [number, number, number];
  if (vMajor !== major) return false;
  if (major === 0) return vMinor === minor && vPatch >= patch;
  return vMinor > minor || (vMinor === minor && vPatch >= patch);
}

describe('installed from packed tarballs with pnpm (strict layout)', () => {
  it('no version or peer range can resolve to the foreign reseolio@0.1.3 on npm', () => {
    // The npm name `reseolio` holds 0.1.3 of an unrelated older project (a gRPC sidecar SDK).
    const core = packedManifest(tarballs.core);
    const sqlite = packedManifest(tarballs.sqlite);
    expect(caretAdmits(`^${core.version}`, '0.1.3')).toBe(false);
    expect(sqlite.peerDependencies?.reseolio).toMatch(/^\^/);
    expect(caretAdmits(sqlite.peerDependencies!.reseolio!, '0.1.3')).toBe(false);
    expect(caretAdmits(sqlite.peerDependencies!.reseolio!, core.version)).toBe(true);
    expect(caretAdmits('^0.1.0', '0.1.3')).toBe(true); // the range 0.1.0 packages carried
  });

  it('core does not depend on the adapters: no cycle between the packages', () => {
    const core = packedManifest(tarballs.core);
    expect(core.peerDependencies).toBeUndefined();
    // No adapter, no @reseolio package: the cron parser of schedules, the OpenTelemetry API
    // (a no-op without an SDK) and prom-client (loaded only by a metrics route).
    expect(Object.keys(core.dependencies ?? {}).sort()).toEqual([
      '@opentelemetry/api',
      'croner',
      'prom-client',
    ]);
  });

  it('a sqlite: URL loads the adapter the app installed, run from another directory', () => {
    const db = join(tempDir(), 'app.db');
    const app = makeApp(
      { reseolio: `file:${tarballs.core}`, '@reseolio/storage-sqlite': `file:${tarballs.sqlite}` },
      `import { Reseolio } from 'reseolio';
const reseolio = new Reseolio({ storage: 'sqlite:${db}' });
await reseolio.start();
const hello = reseolio.durable('hello', async (name) => 'hello ' + name);
console.log(await (await hello('strict pnpm')).result(5000));
await reseolio.stop();
`,
    );
    expect(run(process.execPath, [join(app, 'app.mjs')], outside).trim()).toBe('hello strict pnpm');
  }, 240_000);

  it('a URL whose adapter is not installed names the package to install', () => {
    const app = makeApp(
      { reseolio: `file:${tarballs.core}` },
      `import { Reseolio } from 'reseolio';
const reseolio = new Reseolio({ storage: 'postgres://127.0.0.1/none' });
await reseolio.init().catch((error) => console.log(error.code, error.message));
`,
    );
    const output = run(process.execPath, [join(app, 'app.mjs')], outside);
    expect(output).toContain('RESEOLIO_STORAGE_CONFIG');
    expect(output).toContain('npm install @reseolio/storage-postgres');
  }, 240_000);
});
