import { expect, it } from 'vitest';
import { ADMIN, adminOnly } from '../fixtures.ts';
import type { DashboardBoot } from '../harness.ts';
import type { SuiteContext } from '../run-http-conformance.ts';

/** `dashboard: true` beside the job routes: `/dashboard`, behind their `authorize`. */
const BEHIND_ROUTES: DashboardBoot = {
  option: true,
  prefix: '/dashboard',
  options: adminOnly,
};

/** GET without following redirects: status, a few headers, the body text. */
async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers, redirect: 'manual' });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    location: response.headers.get('location'),
    text: await response.text(),
  };
}

/** The versioned script URL the page loads, relative to the page. */
function scriptOf(html: string): string {
  const src = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
  expect(src, html).toMatch(/^assets\//);
  return src!;
}

export function dashboardSuite({ serve }: SuiteContext): void {
  it('serves the page, its assets and its API under the prefix, behind the job routes’ authorize', async () => {
    const { base, echo } = await serve(adminOnly, { dashboard: BEHIND_ROUTES });
    await (await echo('hello')).result(5000);

    // The bare prefix redirects to the prefix with a slash, relative to itself, query kept.
    const bare = await get(base, '/dashboard?view=jobs', ADMIN);
    expect(bare.status).toBe(302);
    expect(new URL(bare.location!, `${base}/dashboard?view=jobs`).href).toBe(
      `${base}/dashboard/?view=jobs`,
    );

    const page = await get(base, '/dashboard/', ADMIN);
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    const script = await get(base, `/dashboard/${scriptOf(page.text)}`, ADMIN);
    expect(script.status).toBe(200);
    expect(script.contentType).toMatch(/^text\/javascript/);
    expect(script.text.length).toBeGreaterThan(100);

    const overview = await get(base, '/dashboard/api/overview', ADMIN);
    expect(overview.status, overview.text).toBe(200);
    expect(overview.contentType).toMatch(/^application\/json/);
    expect(overview.text).toContain('"echo"');

    // The prefix is the dashboard's own: an unknown path is its 404, not the app's.
    const unknown = await get(base, '/dashboard/no/such/page', ADMIN);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 'RESEOLIO_NOT_FOUND' } });
  });

  it('refuses the page, an asset and the API with 401 without credentials and 403 with wrong ones, showing nothing', async () => {
    const { base, echo } = await serve(adminOnly, { dashboard: BEHIND_ROUTES });
    await (await echo('card-4242')).result(5000);
    const page = await get(base, '/dashboard/', ADMIN);
    const script = `/dashboard/${scriptOf(page.text)}`;
    for (const path of ['/dashboard/', script, '/dashboard/api/overview']) {
      const none = await get(base, path);
      expect(none.status, path).toBe(401);
      expect(JSON.parse(none.text), path).toEqual({
        error: { code: 'RESEOLIO_UNAUTHENTICATED', message: 'Authentication is required.' },
      });
      const wrong = await get(base, path, { authorization: 'Bearer guest' });
      expect(wrong.status, path).toBe(403);
      expect(JSON.parse(wrong.text).error.code, path).toBe('RESEOLIO_FORBIDDEN');
      expect(wrong.text).not.toContain('card-4242');
    }
    const post = await fetch(`${base}/dashboard/api/jobs/bulk/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer guest' },
      body: JSON.stringify({ status: ['dead'] }),
    });
    expect(post.status).toBe(403);
  });

  it('serves a public dashboard at its own prefix while the job routes stay behind authorize', async () => {
    const { base, call } = await serve(adminOnly, {
      dashboard: {
        option: { prefix: '/ops/board', public: true },
        prefix: '/ops/board',
        options: { public: true },
      },
    });
    const page = await get(base, '/ops/board/');
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect((await get(base, `/ops/board/${scriptOf(page.text)}`)).status).toBe(200);
    expect((await get(base, '/ops/board/api/overview')).status).toBe(200);
    expect((await call('GET', '/jobs')).status).toBe(401);
    expect((await get(base, '/dashboard/')).status).toBe(404);
  });

  it('carries an action and its JSON body through the mount: a bulk retry by filter, and a retry by id', async () => {
    const { base, failing, attempts } = await serve(adminOnly, { dashboard: BEHIND_ROUTES });
    const first = await failing();
    await first.result(5000).catch(() => {});
    const second = await failing();
    await second.result(5000).catch(() => {});
    // As the page posts: always a JSON body, `{}` when the action takes none.
    const post = (path: string, body: unknown = {}) =>
      fetch(`${base}/dashboard/api/${path}`, {
        method: 'POST',
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // The body reached the dashboard: without { confirm: true } it refuses, with it it acts.
    const unconfirmed = await post('jobs/bulk/retry?name=failing', {});
    expect(unconfirmed.status).toBe(400);
    const bulk = await post('jobs/bulk/retry?name=failing&status=dead', { confirm: true });
    expect(bulk.status, await bulk.clone().text()).toBe(200);
    expect(await bulk.json()).toEqual({ matched: 2, changed: 2 });
    await first.result(5000).catch(() => {});
    await second.result(5000).catch(() => {});
    expect(attempts.failing).toBe(4);

    const one = await post(`jobs/${first.jobId}/retry`);
    expect(one.status, await one.clone().text()).toBe(200);
    await first.result(5000).catch(() => {});
    expect(attempts.failing).toBe(5);
  });

  it('refuses every action of a read-only dashboard with 403, and still serves the reads', async () => {
    const { base, failing } = await serve(adminOnly, {
      dashboard: {
        option: { readOnly: true },
        prefix: '/dashboard',
        options: { ...adminOnly, readOnly: true },
      },
    });
    const dead = await failing();
    await dead.result(5000).catch(() => {});
    expect((await get(base, '/dashboard/api/overview', ADMIN)).status).toBe(200);
    const retry = await fetch(`${base}/dashboard/api/jobs/${dead.jobId}/retry`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(retry.status).toBe(403);
    expect(await retry.json()).toMatchObject({ error: { code: 'RESEOLIO_READ_ONLY' } });
    expect(await dead.status()).toBe('dead');
  });
}
