import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createDashboardRequestHandler,
  type DashboardPackage,
  IntegrationConfigError,
  loadDashboardPackage,
  redirectToDashboardRoot,
  resolveDashboardOptions,
} from '../src/http/index.ts';
import { Reseolio } from '../src/index.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('resolveDashboardOptions', () => {
  it('expands the shorthands, inherits the job routes’ authorize, and lets its own override it', () => {
    const routes = () => true;
    const own = () => false;
    expect(resolveDashboardOptions(true, 'dashboard', { inherited: routes })).toEqual({
      prefix: '/dashboard',
      authorize: routes,
      readOnly: false,
      title: undefined,
      stuckAfterMs: undefined,
    });
    expect(resolveDashboardOptions('/ops', 'dashboard', { inherited: null })).toMatchObject({
      prefix: '/ops',
      authorize: null,
    });
    expect(
      resolveDashboardOptions(
        { authorize: own, readOnly: true, title: 'Shop', stuckAfterMs: 60_000 },
        'd',
        {
          inherited: null,
        },
      ),
    ).toEqual({
      prefix: '/dashboard',
      authorize: own,
      readOnly: true,
      title: 'Shop',
      stuckAfterMs: 60_000,
    });
    expect(
      resolveDashboardOptions({ public: true }, 'd', { inherited: routes })!.authorize,
    ).toBeNull();
    expect(resolveDashboardOptions(false, 'd')).toBeNull();
    expect(resolveDashboardOptions(undefined, 'd')).toBeNull();
  });

  it('requires authorize or public: true with nothing to inherit, and takes no prefix where it is mounted by hand', () => {
    expect(() => resolveDashboardOptions(true, 'dashboard')).toThrow(IntegrationConfigError);
    expect(() => resolveDashboardOptions(true, 'dashboard')).toThrow(
      /shows job arguments, results and errors, and acts on jobs: give dashboard\.authorize/,
    );
    expect(() =>
      resolveDashboardOptions({ public: true, prefix: '/d' }, 'reseolioDashboard options', {
        withPrefix: false,
      }),
    ).toThrow(/takes no prefix: mount the dashboard where you want it/);
    expect(() =>
      resolveDashboardOptions(true, 'reseolioDashboard options', { withPrefix: false }),
    ).toThrow(/must be an object such as \{ authorize/);
  });
});

describe('loadDashboardPackage', () => {
  it('says to install @reseolio/dashboard when it is missing, and rethrows other failures', async () => {
    const missing = Object.assign(
      new Error("Cannot find package '@reseolio/dashboard' imported from /app/x.js"),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    const error = await loadDashboardPackage(
      () => Promise.reject(missing),
      '@reseolio/fastify',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrationConfigError);
    expect((error as Error).message).toMatch(
      /needs the package @reseolio\/dashboard, which is not installed: run `npm install @reseolio\/dashboard`/,
    );
    const broken = new SyntaxError('Unexpected token');
    await expect(loadDashboardPackage(() => Promise.reject(broken), 'x')).rejects.toBe(broken);
    await expect(loadDashboardPackage(async () => ({}), 'x')).rejects.toThrow(
      /has no createDashboard/,
    );
  });
});

describe('createDashboardRequestHandler', () => {
  async function serveWith(
    authorize: ((request: { user?: string }) => boolean) | null,
    handle: ReturnType<DashboardPackage['createDashboard']>['handle'],
  ) {
    const engine = new Reseolio({ storage: 'memory:', logger: silent });
    onTestFinished(() => engine.stop());
    const made: unknown[] = [];
    const fake: DashboardPackage = {
      createDashboard(options) {
        made.push(options);
        return { handle };
      },
    };
    const serve = createDashboardRequestHandler<{ user?: string }>(
      fake,
      engine,
      { authorize, readOnly: true, title: undefined, stuckAfterMs: undefined },
      silent,
    );
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const user = req.headers['x-user'] as string | undefined;
      void serve({ request: { user }, req, res, path: req.url!, log: silent });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, made, engine };
  }

  it('runs authorize on the framework request first, then the dashboard made public and read-only as asked', async () => {
    const paths: string[] = [];
    const { base, made, engine } = await serveWith(
      (request) => request.user === 'ops',
      async (_req, res, path) => {
        paths.push(path);
        res.end('ok');
      },
    );
    expect(made).toEqual([{ instance: engine, public: true, readOnly: true, logger: silent }]);
    const refused = await fetch(`${base}/api/jobs`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'RESEOLIO_FORBIDDEN' } });
    const allowed = await fetch(`${base}/api/jobs?status=dead`, { headers: { 'x-user': 'ops' } });
    expect(await allowed.text()).toBe('ok');
    expect(paths).toEqual(['/api/jobs?status=dead']);
  });

  it('answers 500 with nothing of the cause when the dashboard throws', async () => {
    const { base } = await serveWith(null, async () => {
      throw new Error('secret detail');
    });
    const response = await fetch(`${base}/`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain('RESEOLIO_DASHBOARD_FAILED');
    expect(text).not.toContain('secret detail');
  });
});

describe('redirectToDashboardRoot', () => {
  it('redirects relative to the request URL, keeping the query', () => {
    const headers: Record<string, unknown> = {};
    const res = {
      statusCode: 0,
      setHeader: (name: string, value: unknown) => {
        headers[name] = value;
      },
      end() {},
    } as unknown as ServerResponse;
    redirectToDashboardRoot(res, '/admin/ops%20board?job=1');
    expect(res.statusCode).toBe(302);
    expect(headers.location).toBe('ops%20board/?job=1');
    expect(new URL(headers.location as string, 'http://h/admin/ops%20board?job=1').pathname).toBe(
      '/admin/ops%20board/',
    );
  });
});
