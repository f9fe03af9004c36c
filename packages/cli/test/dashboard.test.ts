import { describe, expect, it } from 'vitest';
import {
  engineOn,
  postgresTarget,
  reseolio,
  sqliteTarget,
  startReseolio,
  type Target,
} from './helpers.ts';

const storages: [string, (testName: string) => Promise<Target>][] = [
  ['SQLite', async () => sqliteTarget()],
  ['PostgreSQL', postgresTarget],
];

/** GET without following redirects. */
async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, redirect: 'manual' });
  return {
    status: response.status,
    headers: response.headers,
    text: await response.text(),
  };
}

describe.each(storages)('reseolio dashboard on %s', (kind, targetFor) => {
  async function migrated(testName: string): Promise<Target> {
    const target = await targetFor(`${kind} ${testName}`);
    const run = await reseolio(['migrate', ...target.args]);
    expect(run.code, run.stderr).toBe(0);
    return target;
  }

  it('serves the page behind a token (Bearer header, or ?token= once for a cookie), runs no job, and exits 0 on SIGTERM', async ({
    task,
  }) => {
    const target = await migrated(task.name);
    const engine = await engineOn(target);
    const pending = await engine.enqueue('reports:build', [1]);

    const cli = startReseolio(['dashboard', ...target.args, '--port', '0', '--token', 's3cret']);
    const url = await cli.ready;
    // The address and port actually bound: 127.0.0.1 by default, a real port for --port 0.
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:(\d+)\/$/);
    expect(url).not.toContain(':0/');

    const none = await get(url);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text)).toMatchObject({ error: { code: 'RESEOLIO_UNAUTHENTICATED' } });
    expect((await get(url, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`${url}?token=wrong`)).status).toBe(401);
    const browser = await get(url, { accept: 'text/html' });
    expect(browser.status).toBe(401);
    expect(browser.text).toContain('?token=&lt;token&gt;');

    const page = await get(url, { authorization: 'Bearer s3cret' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    // ?token= sets an HttpOnly, SameSite=Strict cookie and redirects to the URL without it.
    const signIn = await get(`${url}?token=s3cret&view=jobs`);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/?view=jobs');
    const setCookie = signIn.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain('s3cret');
    const cookie = setCookie.split(';')[0]!;
    expect((await get(url, { cookie })).status).toBe(200);
    const overview = await get(`${url}api/overview`, { cookie });
    expect(overview.status).toBe(200);
    expect(overview.text).toContain('reports:build');

    const ended = await cli.stop('SIGTERM');
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stderr).toContain('?token=<your token>');
    // The token is never printed.
    expect(ended.stdout + ended.stderr).not.toContain('s3cret');
    // The dashboard's engine ran no worker.
    expect(await pending.status()).toBe('pending');
  });

  it('--public serves without a token, --read-only refuses actions, the token may come from the environment, and SIGINT exits 0', async ({
    task,
  }) => {
    const target = await migrated(task.name);
    const open = startReseolio([
      'dashboard',
      ...target.args,
      '--port',
      '0',
      '--public',
      '--read-only',
    ]);
    const url = await open.ready;
    expect((await get(url)).status).toBe(200);
    const action = await fetch(`${url}api/jobs/bulk/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: ['dead'] }),
    });
    expect(action.status).toBe(403);
    expect((await open.stop('SIGINT')).code).toBe(0);

    const fromEnv = startReseolio(['dashboard', ...target.args, '--port', '0'], {
      RESEOLIO_DASHBOARD_TOKEN: 'from-env',
    });
    const envUrl = await fromEnv.ready;
    expect((await get(envUrl)).status).toBe(401);
    expect((await get(envUrl, { authorization: 'Bearer from-env' })).status).toBe(200);
    expect((await fromEnv.stop()).code).toBe(0);
  });

  it('exit 2 without --token or --public (saying to pass one), or with both; exit 1 on an unmigrated PostgreSQL database unless --migrate; a fresh SQLite file gets its tables', async ({
    task,
  }) => {
    const target = await targetFor(`${kind} ${task.name}`);
    const noToken = await reseolio(['dashboard', ...target.args, '--port', '0']);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('pass --token <secret> (or set RESEOLIO_DASHBOARD_TOKEN)');
    expect(noToken.stderr).toContain('or --public');
    const both = await reseolio(['dashboard', ...target.args, '--public', '--token', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--token <secret>' cannot be used with option '--public'/);
    const badPort = await reseolio(['dashboard', ...target.args, '--public', '--port', 'http']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('Use an integer from 0 to 65535');

    if (kind === 'SQLite') {
      // `npx reseolio dashboard --storage sqlite:./reseolio.db --public` in a fresh directory.
      const fresh = startReseolio(['dashboard', ...target.args, '--public', '--port', '0']);
      const page = await get(await fresh.ready);
      expect(page.status).toBe(200);
      const overview = await get(`${await fresh.ready}api/overview`);
      expect(JSON.parse(overview.text)).toMatchObject({ functions: [] });
      const stopped = await fresh.stop();
      expect(stopped.code).toBe(0);
      expect(stopped.stderr).toContain("creating Reseolio's tables");
      return;
    }
    const unmigrated = await reseolio(['dashboard', ...target.args, '--public', '--port', '0']);
    expect(unmigrated.code).toBe(1);
    expect(unmigrated.stderr).toContain('run `reseolio migrate`');
    const migrating = startReseolio([
      'dashboard',
      ...target.args,
      '--public',
      '--port',
      '0',
      '--migrate',
    ]);
    expect((await get(await migrating.ready)).status).toBe(200);
    expect((await migrating.stop()).code).toBe(0);
  });

  it('--help documents the options and the token', async () => {
    const help = await reseolio(['dashboard', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--port', '--host', '--token', '--public', '--read-only', '--storage']) {
      expect(help.stdout).toContain(option);
    }
    expect(help.stdout).toContain('RESEOLIO_DASHBOARD_TOKEN');
  });
});
