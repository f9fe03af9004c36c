import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkAuthorization, errorResponse } from 'reseolio/http';
import { serveApi } from './api/serve-api.ts';
import { type DashboardOptions, resolveDashboardOptions } from './options.ts';
import { sendJson } from './respond.ts';
import { type Route, splitPath } from './route.ts';
import { serveAsset, servePage } from './static/serve-static.ts';

/** A dashboard, ready to serve; mount {@link Dashboard.handle} under any prefix. */
export interface Dashboard<Req = IncomingMessage> {
  /**
   * Serves one request. `path` is the request path RELATIVE to the mount point, with the query
   * string (e.g. `'/'`, `'/api/jobs?status=dead'`, `'/assets/app.js'`). Answers 404 for
   * unknown paths and never passes the request on: the mount owns its whole prefix. Works
   * behind any reverse-proxy prefix because the page uses only relative URLs.
   *
   * A JSON body of a POST is read from `req`, unless a body parser in front already did
   * (`req.body`).
   * @param authorizeRequest what `authorize` receives, when the framework has its own request
   *   object (a Fastify or Express request); default `req`
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    authorizeRequest?: Req,
  ): Promise<void>;
}

/**
 * Makes a dashboard for one engine. Validates the options now, so a mistake fails at startup
 * rather than on the first request.
 * @throws IntegrationConfigError (code `RESEOLIO_INVALID_OPTION`) for bad options
 */
export function createDashboard<Req = IncomingMessage>(
  options: DashboardOptions<Req>,
): Dashboard<Req> {
  const config = resolveDashboardOptions<Req>(options);
  return {
    async handle(req, res, path, authorizeRequest) {
      const route: Route = splitPath(path);
      const refusal = await checkAuthorization(
        config.authorize,
        authorizeRequest ?? (req as Req),
        config.logger,
      );
      if (refusal !== undefined) {
        sendJson(res, refusal);
        return;
      }
      try {
        if (route.segments[0] === 'api') {
          await serveApi(config, req, res, route);
        } else if (route.segments[0] === 'assets') {
          await serveAsset(req, res, route);
        } else if (route.segments.length === 0) {
          await servePage(config, req, res, route);
        } else {
          sendJson(res, notFound(route.pathname));
        }
      } catch (error) {
        config.logger.error(`Reseolio dashboard: ${req.method} ${route.pathname} failed`, error);
        if (!res.headersSent) {
          sendJson(
            res,
            errorResponse(
              500,
              'RESEOLIO_DASHBOARD_FAILED',
              'The dashboard failed to answer; the cause is in the server log.',
            ),
          );
        } else {
          res.destroy();
        }
      }
    },
  };
}

/** 404 for a path the dashboard does not serve. */
export function notFound(pathname: string) {
  return errorResponse(
    404,
    'RESEOLIO_NOT_FOUND',
    `The dashboard has no ${JSON.stringify(pathname)}.`,
  );
}
