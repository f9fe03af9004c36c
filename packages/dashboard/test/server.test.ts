import { gunzipSync } from 'node:zlib';
import { MemoryStorage, Reseolio } from 'reseolio';
import { IntegrationConfigError } from 'reseolio/http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createDashboard, type DashboardOptions } from '../src/index.ts';
import { PREFIX, raw, serve } from './helpers.ts';

async function memoryEngine(): Promise<Reseolio> {
  const engine = new Reseolio({ storage: new MemoryStorage(), workerConcurrency: 0 });
  onTestFinished(() => engine.stop());
  await engine.init();
  return engine;
}

/** A dead job and a schedule, for the routes to act on. */
async function seeded(engine: Reseolio) {
  const fail = engine.durable('billing:charge', async (_amount: number) => {
    throw new Error('card declined');
  });
  const handle = await fail(10);
  await handle.cancel();
  const schedule = await engine.schedule('nightly', 'billing:report', { cron: '0 2 * * *' });
  return { jobId: handle.jobId, scheduleId: schedule.id };
}

describe('createDashboard options', () => {
  it('requires authorize or public: true, and names the fix', async () => {
    const instance = await memoryEngine();
    expect(() => createDashboard({ instance } as DashboardOptions)).toThrow(
      /give createDashboard\(options\)\.authorize .*or set public: true/,
    );
    expect(() => createDashboard({ instance } as DashboardOptions)).toThrow(IntegrationConfigError);
  });

  it('refuses a foreign instance, unknown keys and bad values with RESEOLIO_INVALID_OPTION', async () => {
    const instance = await memoryEngine();
    const bad: Array<[unknown, RegExp]> = [
      [{ instance: {}, public: true }, /instance must be a Reseolio engine/],
      [{ instance, public: true, prefix: '/x' }, /takes no prefix/],
      [
        { instance, public: true, colour: 'red' },
        /Unknown createDashboard\(options\) option "colour"/,
      ],
      [{ instance, public: true, readOnly: 'yes' }, /readOnly must be true or false/],
      [
        { instance, public: true, stuckAfterMs: 5 },
        /stuckAfterMs must be an integer number of milliseconds from 1000/,
      ],
      [{ instance, public: true, title: '' }, /title must be a non-empty string/],
      [
        { instance, public: true, logger: {} },
        /logger must have error\(message\) and warn\(message\)/,
      ],
      [
        { instance, public: true, authorize: () => true },
        /either .*authorize or public: true, not both/,
      ],
      [null, /must be an object/],
    ];
    for (const [options, message] of bad) {
      let thrown: unknown;
      try {
        createDashboard(options as DashboardOptions);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(IntegrationConfigError);
      expect((thrown as IntegrationConfigError).code).toBe('RESEOLIO_INVALID_OPTION');
      expect((thrown as Error).message).toMatch(message);
    }
  });
});

describe('authorization on every request', () => {
  const paths = ['/', '/assets/app.js', '/assets/style.css', '/api/overview', '/api/jobs'];

  it('answers 403 on the page, the assets and the API when authorize returns false', async () => {
    const instance = await memoryEngine();
    await seeded(instance);
    const seen: string[] = [];
    const { origin } = await serve({
      instance,
      authorize: (req) => {
        seen.push(req.url ?? '');
        return req.headers.authorization === 'Bearer good';
      },
    });
    for (const path of paths) {
      const refused = await raw(origin, `${PREFIX}${path}`);
      expect(refused.status, path).toBe(403);
      expect(refused.json).toEqual({
        error: { code: 'RESEOLIO_FORBIDDEN', message: 'You are not allowed to access jobs.' },
      });
      const allowed = await raw(origin, `${PREFIX}${path}`, {
        headers: { authorization: 'Bearer good' },
      });
      expect(allowed.status, path).toBe(200);
    }
    const post = await raw(origin, `${PREFIX}/api/jobs/x/retry`, { method: 'POST' });
    expect(post.status).toBe(403);
    expect(seen.length).toBe(paths.length * 2 + 1);
  });

  it('answers 401 when authorize throws a 401 error, 500 (logged, not sent) for other throws', async () => {
    const instance = await memoryEngine();
    const logged: unknown[] = [];
    const logger = { error: (...args: unknown[]) => logged.push(args), warn: () => {} };
    const { origin } = await serve({
      instance,
      logger,
      authorize: (req) => {
        if (req.headers['x-boom']) throw new Error('identity provider down');
        throw Object.assign(new Error('who are you'), { status: 401 });
      },
    });
    for (const path of paths) {
      const answer = await raw(origin, `${PREFIX}${path}`);
      expect(answer.status, path).toBe(401);
      expect(answer.json.error.code).toBe('RESEOLIO_UNAUTHENTICATED');
    }
    const failed = await raw(origin, `${PREFIX}/api/overview`, { headers: { 'x-boom': '1' } });
    expect(failed.status).toBe(500);
    expect(failed.text).not.toContain('identity provider down');
    expect(logged.length).toBe(1);
  });

  it('gives authorize the framework request when the mount passes one', async () => {
    const instance = await memoryEngine();
    const dashboard = createDashboard<{ user: string }>({
      instance,
      authorize: (request) => request.user === 'ops',
    });
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      void dashboard.handle(req, res, req.url ?? '/', { user: String(req.headers['x-user']) });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    expect((await raw(origin, '/api/overview', { headers: { 'x-user': 'ops' } })).status).toBe(200);
    expect((await raw(origin, '/api/overview', { headers: { 'x-user': 'eve' } })).status).toBe(403);
  });
});

describe('read-only', () => {
  it('refuses every action with 403 RESEOLIO_READ_ONLY and changes nothing', async () => {
    const instance = await memoryEngine();
    const { jobId, scheduleId } = await seeded(instance);
    const { origin } = await serve({ instance, public: true, readOnly: true });
    const actions = [
      `/api/jobs/${jobId}/retry`,
      `/api/jobs/${jobId}/cancel`,
      `/api/jobs/${jobId}/signals/approved`,
      '/api/jobs/bulk/retry?status=cancelled',
      '/api/jobs/bulk/cancel',
      `/api/schedules/${scheduleId}/pause`,
      `/api/schedules/${scheduleId}/resume`,
      `/api/schedules/${scheduleId}/trigger`,
    ];
    for (const path of actions) {
      const answer = await raw(origin, `${PREFIX}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"confirm":true}',
      });
      expect(answer.status, path).toBe(403);
      expect(answer.json.error.code).toBe('RESEOLIO_READ_ONLY');
    }
    expect((await instance.getHandle(jobId).details()).status).toBe('cancelled');
    expect((await instance.getSchedule(scheduleId))?.status).toBe('active');
    // Reads still work, and the page says it is read-only.
    expect((await raw(origin, `${PREFIX}/api/jobs/${jobId}`)).status).toBe(200);
    expect((await raw(origin, `${PREFIX}/`)).text).toContain('&quot;readOnly&quot;:true');
  });
});

describe('bad input', () => {
  it('answers 400 RESEOLIO_INVALID_INPUT with a message that says what to send', async () => {
    const instance = await memoryEngine();
    const { jobId } = await seeded(instance);
    const { origin } = await serve({ instance, public: true });
    const cases: Array<[string, string, string | undefined, RegExp]> = [
      [
        'GET',
        '/api/jobs?status=broken',
        undefined,
        /querystring\/status must be one or more of pending, running/,
      ],
      ['GET', '/api/jobs?createdAfter=yesterday', undefined, /createdAfter must be an ISO date/],
      [
        'GET',
        '/api/jobs?createdAfter=2026-02-01&createdBefore=2026-01-01',
        undefined,
        /must be earlier than/,
      ],
      ['GET', '/api/jobs?limit=0', undefined, /limit must be an integer from 1 to 500/],
      ['GET', '/api/jobs?name=', undefined, /name must not be empty/],
      ['GET', '/api/jobs?name=a&name=b', undefined, /name must be given once/],
      ['GET', '/api/jobs/count?status=nope', undefined, /querystring\/status/],
      ['GET', '/api/jobs/count?before=x', undefined, /querystring\/before is not a job filter/],
      [
        'POST',
        '/api/jobs/bulk/cancel?stauts=dead',
        '{"confirm":true}',
        /querystring\/stauts is not a job filter; use status, name/,
      ],
      ['POST', '/api/jobs/bulk/retry?status=dead', '{}', /needs the body \{ "confirm": true \}/],
      ['POST', `/api/jobs/${jobId}/signals/go`, '{"orderId":1}', /body\/orderId is not allowed/],
      ['POST', `/api/jobs/${jobId}/signals/go`, '{not json', /not valid JSON/],
      ['GET', '/api/schedules?offset=-1', undefined, /offset must be a non-negative integer/],
    ];
    for (const [method, path, body, message] of cases) {
      const answer = await raw(origin, `${PREFIX}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
      expect(answer.status, path).toBe(400);
      expect(answer.json.error.code, path).toBe('RESEOLIO_INVALID_INPUT');
      expect(answer.json.error.message, path).toMatch(message);
    }
  });

  it('refuses actions that are not sent as JSON with 415, so a cross-site form cannot post them', async () => {
    const instance = await memoryEngine();
    const engineJob = await instance.durable('mail:send', async () => 'sent')();
    const { origin } = await serve({ instance, public: true });
    for (const type of [
      undefined,
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await raw(origin, `${PREFIX}/api/jobs/${engineJob.jobId}/cancel`, {
        method: 'POST',
        headers: type === undefined ? {} : { 'content-type': type },
      });
      expect(answer.status, type).toBe(415);
      expect(answer.json.error.message).toContain('Content-Type: application/json');
    }
    expect((await instance.getHandle(engineJob.jobId).details()).status).toBe('pending');
    const json = await raw(origin, `${PREFIX}/api/jobs/${engineJob.jobId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(200);
    expect(json.json.job.status).toBe('cancelled');
  });

  it('answers 404 for unknown jobs, schedules and paths, 405 for a wrong method, 409 for a wrong state', async () => {
    const instance = await memoryEngine();
    const { jobId } = await seeded(instance);
    const { origin } = await serve({ instance, public: true });
    const unknownJob = await raw(origin, `${PREFIX}/api/jobs/0190b5c8-0000-7000-8000-000000000000`);
    expect(unknownJob.status).toBe(404);
    expect(unknownJob.json.error.code).toBe('RESEOLIO_JOB_NOT_FOUND');
    const unknownSchedule = await raw(origin, `${PREFIX}/api/schedules/nope/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknownSchedule.status).toBe(404);
    expect((await raw(origin, `${PREFIX}/api/nothing`)).status).toBe(404);
    expect((await raw(origin, `${PREFIX}/elsewhere`)).status).toBe(404);
    const wrongMethod = await raw(origin, `${PREFIX}/api/jobs/${jobId}/retry`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect((await raw(origin, `${PREFIX}/`, { method: 'POST' })).status).toBe(405);
    const cancelled = await raw(origin, `${PREFIX}/api/jobs/${jobId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(cancelled.status).toBe(409);
    expect(cancelled.json.error.code).toBe('RESEOLIO_JOB_FINISHED');
  });
});

describe('static assets', () => {
  it('never reads outside the built assets: traversal answers 404', async () => {
    const instance = await memoryEngine();
    const { origin } = await serve({ instance, public: true });
    for (const path of [
      '/assets/../package.json',
      '/assets/../../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/',
      '/assets/app.js/x',
      '/assets/index.js',
      '/../../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      const answer = await raw(origin, `${PREFIX}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.text, path).not.toContain('"name"');
      expect(answer.text, path).not.toContain('root:');
    }
  });

  it('serves them with content types, ETags, 304s, gzip when accepted, and long caching only for versioned URLs', async () => {
    const instance = await memoryEngine();
    const { origin } = await serve({ instance, public: true, title: 'Ops <jobs>' });
    const page = await raw(origin, `${PREFIX}/`);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('private, no-cache');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).toContain('<title>Ops &lt;jobs&gt;</title>');
    // Relative URLs only: the page works under any prefix.
    const urls = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1]!)
      .filter((url) => url !== 'data:,'); // the empty favicon, so the browser asks for none
    expect(urls.length).toBe(2);
    for (const url of urls) expect(url).toMatch(/^assets\/[a-z]+\.(js|css)\?v=[0-9a-f]{12}$/);

    const scriptUrl = urls.find((url) => url.includes('app.js'))!;
    const plain = await raw(origin, `${PREFIX}/${scriptUrl}`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(plain.headers.vary).toBe('Accept-Encoding');
    const zipped = await raw(origin, `${PREFIX}/${scriptUrl}`, {
      headers: { 'accept-encoding': 'br, gzip;q=0.8' },
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    const refused = await raw(origin, `${PREFIX}/${scriptUrl}`, {
      headers: { 'accept-encoding': 'gzip;q=0' },
    });
    expect(refused.headers['content-encoding']).toBeUndefined();

    const etag = plain.headers.etag!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await raw(origin, `${PREFIX}/assets/app.js`, {
      headers: { 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const stale = await raw(origin, `${PREFIX}/assets/app.js?v=old`);
    expect(stale.headers['cache-control']).toBe('private, no-cache');
    const css = await raw(origin, `${PREFIX}/assets/style.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });
});

describe('API answers', () => {
  it('pages the job list by keyset cursor, newest first, with filters', async () => {
    const instance = await memoryEngine();
    const send = instance.durable('mail:send', async (_to: string) => 'sent');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await send(`u${i}@x.test`, { idempotencyKey: `k${i}` })).jobId);
    const { origin } = await serve({ instance, public: true });
    const first = await raw(origin, `${PREFIX}/api/jobs?name=mail:send&limit=3`);
    expect(first.json.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(4).reverse());
    expect(first.json.next).toBe(ids[4]);
    const second = await raw(
      origin,
      `${PREFIX}/api/jobs?name=mail:send&limit=3&before=${first.json.next}`,
    );
    expect(second.json.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(1, 4).reverse());
    const last = await raw(
      origin,
      `${PREFIX}/api/jobs?name=mail:send&limit=3&before=${second.json.next}`,
    );
    expect(last.json.jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    expect(last.json.next).toBeNull();
    const byKey = await raw(origin, `${PREFIX}/api/jobs?idempotencyKey=k3`);
    expect(byKey.json.jobs.map((j: { id: string }) => j.id)).toEqual([ids[3]]);
    const none = await raw(origin, `${PREFIX}/api/jobs?name=other`);
    expect(none.json).toEqual({ jobs: [], limit: 50, next: null });
    const count = await raw(origin, `${PREFIX}/api/jobs/count?name=mail:send`);
    expect(count.json).toEqual({ total: 7, retryable: 0, cancellable: 7 });
  });
});

describe('overview and job page answers', () => {
  it('counts per function, the last hour from stored completions, failures, and a parent with its children and attempts', async () => {
    const instance = new Reseolio({
      storage: new MemoryStorage(),
      workerConcurrency: 4,
      pollIntervalMs: 20,
      suspendAfterMs: 50,
      workerId: 'node-1',
    });
    onTestFinished(() => instance.stop());
    const child = instance.durable(
      'saga:step',
      async (n: number) => {
        if (n === 2) throw new Error(`step ${n} failed`);
        return n;
      },
      { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 1 },
    );
    const parent = instance.durable('saga:run', async () => {
      const results: unknown[] = [];
      for (const n of [1, 2]) {
        results.push(await (await child(n)).result().catch((error: Error) => error.message));
      }
      return results;
    });
    await instance.init();
    await instance.start();
    const run = await parent();
    await run.result(20_000);
    const { origin } = await serve({ instance, public: true, stuckAfterMs: 60_000 });

    const overview = (await raw(origin, `${PREFIX}/api/overview`)).json;
    const step = overview.functions.find((fn: { name: string }) => fn.name === 'saga:step');
    expect(step.counts).toMatchObject({ success: 1, dead: 1 });
    expect(step.lastHour).toEqual({ success: 1, dead: 1, cancelled: 0 });
    expect(step.throughput).toHaveLength(12);
    expect(overview.totals).toMatchObject({ success: 2, dead: 1 });
    expect(overview.recentFailures.map((job: { name: string }) => job.name)).toEqual(['saga:step']);
    expect(overview.alerts).toEqual([]);
    expect(overview.stuckAfterMs).toBe(60_000);

    const page = (await raw(origin, `${PREFIX}/api/jobs/${run.jobId}`)).json;
    expect(page.parent).toBeNull();
    expect(page.children.map((job: { args: unknown[] }) => job.args)).toEqual([[1], [2]]);
    expect(page.job.attempts.length).toBeGreaterThanOrEqual(1);
    const failed = page.children[1];
    const childPage = (await raw(origin, `${PREFIX}/api/jobs/${failed.id}`)).json;
    expect(childPage.parent.id).toBe(run.jobId);
    expect(childPage.job.errorDetail).toMatchObject({ name: 'Error', message: 'step 2 failed' });
    expect(childPage.job.errorDetail.stack).toContain('step 2 failed');
    // The job routes' JSON leaves the stack out; the dashboard shows it in errorDetail only.
    expect(childPage.job.error).not.toHaveProperty('stack');
    expect(childPage.job.attempts).toHaveLength(2);
    for (const attempt of childPage.job.attempts) {
      expect(attempt).toMatchObject({ outcome: 'failed', workerId: 'node-1' });
      expect(attempt.error.message).toBe('step 2 failed');
    }
  });
});

describe('bodies', () => {
  it('uses a body a framework parsed already (req.body), as well as reading the stream itself', async () => {
    const instance = await memoryEngine();
    const wait = instance.durable('ops:wait', async () => 'done');
    const job = await wait();
    const dashboard = createDashboard({ instance, public: true });
    const { createServer } = await import('node:http');
    // What express.json() does: read the stream, leave the result in req.body.
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      (req as typeof req & { body?: unknown }).body = JSON.parse(Buffer.concat(chunks).toString());
      void dashboard.handle(req, res, req.url ?? '/');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const json = { 'content-type': 'application/json' };
    const refused = await raw(origin, '/api/jobs/bulk/cancel?name=ops:wait', {
      method: 'POST',
      headers: json,
      body: '{"confirm":false}',
    });
    expect(refused.status).toBe(400);
    const signalled = await raw(origin, `/api/jobs/${job.jobId}/signals/go`, {
      method: 'POST',
      headers: json,
      body: '{"payload":{"by":"ops"},"idempotencyKey":"once"}',
    });
    expect(signalled.status).toBe(202);
    expect(signalled.json).toEqual({ duplicate: false });
    const again = await raw(origin, `/api/jobs/${job.jobId}/signals/go`, {
      method: 'POST',
      headers: json,
      body: '{"payload":{"by":"ops"},"idempotencyKey":"once"}',
    });
    expect(again.json).toEqual({ duplicate: true });
    const cancelled = await raw(origin, '/api/jobs/bulk/cancel?name=ops:wait', {
      method: 'POST',
      headers: json,
      body: '{"confirm":true}',
    });
    expect(cancelled.json).toEqual({ matched: 1, changed: 1 });
  });
});

describe('first load', () => {
  it('is under 200 KB, raw and gzipped: the page, its script and its stylesheet', async () => {
    const instance = await memoryEngine();
    const { origin } = await serve({ instance, public: true });
    const page = await raw(origin, `${PREFIX}/`);
    const urls = [...page.text.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1]!);
    let rawBytes = 0;
    let gzipBytes = 0;
    const lines: string[] = [];
    for (const path of ['', ...urls]) {
      const plain = await raw(origin, `${PREFIX}/${path}`);
      const zipped = await raw(origin, `${PREFIX}/${path}`, {
        headers: { 'accept-encoding': 'gzip' },
      });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      rawBytes += plain.body.length;
      gzipBytes += zipped.body.length;
      lines.push(`${path || 'page'}: ${plain.body.length} B raw, ${zipped.body.length} B gzip`);
    }
    console.log(`first load: ${lines.join('; ')}; total ${rawBytes} B raw, ${gzipBytes} B gzip`);
    expect(rawBytes).toBeLessThan(200 * 1024);
    expect(gzipBytes).toBeLessThan(200 * 1024);
  });
});
