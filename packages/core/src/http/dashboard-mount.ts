import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reseolio } from '../reseolio.ts';
import type { Logger } from '../types.ts';
import { checkAuthorization } from './authorize.ts';
import type { ResolvedDashboardOptions } from './dashboard-options.ts';
import { IntegrationConfigError } from './integration-error.ts';

/**
 * What an integration uses of `@reseolio/dashboard`, written here as a shape so that `reseolio`
 * does not depend on the dashboard package (it is an optional peer of each integration, loaded
 * only when the `dashboard` option is given).
 */
export interface DashboardPackage {
  createDashboard(options: {
    instance: Reseolio;
    public: true;
    readOnly: boolean;
    title?: string;
    stuckAfterMs?: number;
    logger?: Logger;
  }): { handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> };
}

/** The package the `dashboard` option needs. */
export const DASHBOARD_PACKAGE = '@reseolio/dashboard';

/**
 * Loads `@reseolio/dashboard` through `load` (an `import()` written in the integration, so the
 * package resolves from there), failing with an `IntegrationConfigError` that says to install
 * it when it is missing.
 * @param integration the integration's package name, for the message
 */
export async function loadDashboardPackage(
  load: () => Promise<unknown>,
  integration: string,
): Promise<DashboardPackage> {
  let loaded: unknown;
  try {
    loaded = await load();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new IntegrationConfigError(
      `The dashboard option of ${integration} needs the package ${DASHBOARD_PACKAGE}, which ` +
        `is not installed: run \`npm install ${DASHBOARD_PACKAGE}\` (the same version as ${integration}).`,
      { cause: error },
    );
  }
  if (typeof (loaded as Partial<DashboardPackage>).createDashboard !== 'function') {
    throw new IntegrationConfigError(
      `The installed ${DASHBOARD_PACKAGE} has no createDashboard(): install the version that matches ${integration}.`,
    );
  }
  return loaded as DashboardPackage;
}

/** One request under the dashboard's prefix, as the framework hands it over. */
export interface DashboardRequest<Req> {
  /** The framework's request object, for `authorize`. */
  request: Req;
  /** Node's request and response under it; the dashboard writes the answer to `res` itself. */
  req: IncomingMessage;
  res: ServerResponse;
  /** The path relative to the prefix, with the query string: `'/'`, `'/api/jobs?status=dead'`. */
  path: string;
  /** The framework's logger, for what the caller is not shown. */
  log: Logger;
}

/** Serves one request under the dashboard's prefix. */
export type DashboardRequestHandler<Req> = (request: DashboardRequest<Req>) => Promise<void>;

/**
 * The whole of a mounted dashboard, whatever the framework: `authorize` first, on every
 * request (page, assets, API and actions alike; 401/403/500 as on the job routes, with the
 * same JSON bodies), then the dashboard's own handler. The dashboard itself is made public:
 * the framework's request, which `authorize` is documented to receive, exists only here.
 */
export function createDashboardRequestHandler<Req>(
  dashboardPackage: DashboardPackage,
  engine: Reseolio,
  options: Omit<ResolvedDashboardOptions<Req>, 'prefix'>,
  logger?: Logger,
): DashboardRequestHandler<Req> {
  const dashboard = dashboardPackage.createDashboard({
    instance: engine,
    public: true,
    readOnly: options.readOnly,
    ...(options.title === undefined ? {} : { title: options.title }),
    ...(options.stuckAfterMs === undefined ? {} : { stuckAfterMs: options.stuckAfterMs }),
    ...(logger === undefined ? {} : { logger }),
  });
  return async ({ request, req, res, path, log }) => {
    try {
      const refused = await checkAuthorization(options.authorize, request, log);
      if (refused) {
        sendJson(res, refused.status, refused.body);
        return;
      }
      await dashboard.handle(req, res, path);
    } catch (error) {
      log.error('the dashboard failed to answer a request; answering 500', error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, {
        error: {
          code: 'RESEOLIO_DASHBOARD_FAILED',
          message: 'The dashboard failed to answer; the cause is in the server log.',
        },
      });
    }
  };
}

/**
 * Answers a request for the bare prefix (`/dashboard`) with a redirect to the prefix and a
 * trailing slash, query kept: the page loads its assets and API by relative URLs, which
 * resolve under `/dashboard/` only. The `Location` is relative to the request's own URL
 * (`dashboard/?…`), so it stays right behind a reverse proxy that strips or adds a prefix.
 * @param url the request's URL as received (path and query)
 */
export function redirectToDashboardRoot(res: ServerResponse, url: string): void {
  const queryAt = url.indexOf('?');
  const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  res.statusCode = 302;
  // The segment as received: still percent-encoded, so it is a valid relative reference.
  res.setHeader('location', `${last === '' ? '.' : last}/${query}`);
  res.end();
}

/** The query string of `url` (from its `?`), or `''`. */
export function queryOf(url: string): string {
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? '' : url.slice(queryAt);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.setHeader('cache-control', 'no-store');
  res.end(text);
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    String((error as Error).message).includes(DASHBOARD_PACKAGE)
  );
}
