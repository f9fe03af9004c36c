import { createRequire } from 'node:module';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  createDashboardRequestHandler,
  DASHBOARD_PACKAGE,
  IntegrationConfigError,
  loadDashboardPackage,
  redirectToDashboardRoot,
} from 'reseolio/http';
import { resolveDashboardRouterOptions } from './options.ts';
import type { DashboardRouterOptions } from './types.ts';
import { wrapAsync } from './wrap-async.ts';

const INTEGRATION = '@reseolio/express';

/**
 * The dashboard (`@reseolio/dashboard`) as one request handler; mount it with
 * `app.use('/dashboard', reseolioDashboard({ instance, authorize }))`. It owns every path under
 * its mount point (never calls `next()` there) and answers the bare mount point with a
 * redirect to it with a trailing slash, as the page's relative URLs need. Options and the
 * package's presence are checked now, synchronously; the package itself loads in the
 * background and the first request waits for it.
 */
export function reseolioDashboard(options: DashboardRouterOptions): RequestHandler {
  const { engine, dashboard, logger } = resolveDashboardRouterOptions(options);
  assertInstalled();
  const ready = loadDashboardPackage(() => import('@reseolio/dashboard'), INTEGRATION).then(
    (dashboardPackage) =>
      createDashboardRequestHandler(dashboardPackage, engine, dashboard, logger),
  );
  // Logged once, now; every request under the mount then passes it to `next(err)`.
  ready.catch((error: unknown) => {
    logger.error('reseolioDashboard could not be set up; requests under it will fail', error);
  });

  return wrapAsync(async function reseolioDashboard(
    req: Request,
    res: Response,
    _next: NextFunction,
  ) {
    const handle = await ready;
    // Inside a mounted handler `req.url` is relative to the mount point, query included;
    // `originalUrl` is what the client asked for.
    if (pathOf(req.url) === '/' && !pathOf(req.originalUrl).endsWith('/')) {
      redirectToDashboardRoot(res, req.originalUrl);
      return;
    }
    await handle({ request: req, req, res, path: req.url, log: logger });
  });
}

/**
 * Fails at startup, not on the first request, when the optional peer is missing. Resolving
 * is synchronous where importing an ES module is not.
 */
function assertInstalled(): void {
  try {
    createRequire(import.meta.url).resolve(DASHBOARD_PACKAGE);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Any other failure (say, no `require` condition in its exports) means it is there.
    if (code !== 'MODULE_NOT_FOUND') return;
    throw new IntegrationConfigError(
      `reseolioDashboard needs the package ${DASHBOARD_PACKAGE}, which is not installed: run ` +
        `\`npm install ${DASHBOARD_PACKAGE}\` (the same version as ${INTEGRATION}).`,
      { cause: error },
    );
  }
}

function pathOf(url: string): string {
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}
