import type { IncomingMessage, ServerResponse } from 'node:http';
import { All, Controller, Inject, Req, Res, type Type } from '@nestjs/common';
import { type DashboardRequestHandler, queryOf, redirectToDashboardRoot } from 'reseolio/http';
import { NestLoggerAdapter } from './nest-logger.adapter.ts';
import { RESEOLIO_DASHBOARD } from './reseolio.constants.ts';

/** What `@Req()` and `@Res()` give on either platform, as far as the dashboard cares. */
interface PlatformRequest {
  url?: string;
  originalUrl?: string;
  /** Fastify's request: Node's is under `raw`, the parsed body beside it. */
  raw?: IncomingMessage;
  body?: unknown;
  /** Express: the route's path as registered, global prefix included. */
  route?: { path?: unknown };
  /** Fastify: the same. */
  routeOptions?: { url?: unknown };
}
interface PlatformResponse {
  raw?: ServerResponse;
  hijack?: () => void;
}

/**
 * Route-path metadata key (`PATH_METADATA` of `@nestjs/common/constants`, written out: the
 * package has no export map entry for it).
 */
const PATH_METADATA = 'path';

/**
 * Spells the catch-all route of a dashboard controller for the app's platform, before Nest
 * reads its routes: Express 5 (path-to-regexp 8) needs a named wildcard (`*path`), which
 * Fastify's router rejects, as Express rejects Fastify's bare `*`.
 * @param platform `httpAdapter.getType()`: `'express'` or `'fastify'`
 */
export function spellDashboardWildcard(controller: Type, platform: string | undefined): void {
  const below = (controller.prototype as { below: object }).below;
  Reflect.defineMetadata(PATH_METADATA, platform === 'fastify' ? '*' : '*path', below);
}

/**
 * A controller owning every path under `prefix` and handing each request to the dashboard,
 * which writes Node's response itself. Like the job routes' controller it is a real Nest
 * controller (global prefix, guards and middleware apply) and works on both Nest platforms.
 * The bare prefix redirects to `prefix/`, as the page's relative URLs need. A class per call:
 * the prefix is class metadata.
 */
export function createDashboardController(prefix: string): Type {
  @Controller(prefix)
  class ReseolioDashboardController {
    readonly #log = new NestLoggerAdapter();

    constructor(
      @Inject(RESEOLIO_DASHBOARD) private readonly handle: DashboardRequestHandler<unknown>,
    ) {}

    @All()
    async root(@Req() request: PlatformRequest, @Res() response: PlatformResponse): Promise<void> {
      const { req, res } = unwrap(request, response);
      const url = req.url ?? '/';
      // Express matches `prefix/` here too (non-strict routing): serve it rather than loop.
      if (url.split('?')[0]!.endsWith('/'))
        return this.serve(request, req, res, `/${queryOf(url)}`);
      redirectToDashboardRoot(res, url);
    }

    // Respelled for the platform by `spellDashboardWildcard`.
    @All('*path')
    async below(@Req() request: PlatformRequest, @Res() response: PlatformResponse): Promise<void> {
      const { req, res } = unwrap(request, response);
      return this.serve(request, req, res, relativePath(request, req.url ?? '/', prefix));
    }

    private serve(request: unknown, req: IncomingMessage, res: ServerResponse, path: string) {
      return this.handle({ request, req, res, path, log: this.#log });
    }
  }
  return ReseolioDashboardController;
}

/**
 * Node's request and response under the platform's. On Fastify the reply is hijacked (Fastify
 * sends nothing of its own) and the body it already parsed is handed over as `body`, where
 * the dashboard looks before reading the (consumed) stream; Express's body parser leaves its
 * result there itself.
 */
function unwrap(
  request: PlatformRequest,
  response: PlatformResponse,
): { req: IncomingMessage; res: ServerResponse } {
  if (request.raw === undefined) {
    return { req: request as IncomingMessage, res: response as ServerResponse };
  }
  response.hijack?.();
  const req = request.raw as IncomingMessage & { body?: unknown };
  if (request.body !== undefined && req.body === undefined) req.body = request.body;
  return { req, res: response.raw! };
}

/**
 * The path below the prefix, as received (still percent-encoded), with the query: the
 * segments of the URL after those of the route's static part, which carries the global
 * prefix if the app set one.
 */
function relativePath(request: PlatformRequest, url: string, prefix: string): string {
  const template = String(request.routeOptions?.url ?? request.route?.path ?? '');
  const star = template.indexOf('*');
  const [pathname = '/', ...query] = url.split('?');
  const segments = pathname.split('/');
  const mounted =
    star === -1
      ? // Not seen on Express or Fastify; the prefix's own segments are the best guess.
        segments.indexOf(prefix.split('/').pop()!) + 1
      : template.slice(0, star).split('/').length - 1;
  const rest = segments.slice(mounted).join('/');
  return `/${rest}${query.length > 0 ? `?${query.join('?')}` : ''}`;
}
