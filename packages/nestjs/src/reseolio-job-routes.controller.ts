import {
  Controller,
  Inject,
  Req,
  RequestMapping,
  RequestMethod,
  Res,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JOB_ROUTES, type JobRouteHandler } from 'reseolio/http';
import { NestLoggerAdapter } from './nest-logger.adapter.ts';
import { RESEOLIO_JOB_ROUTES } from './reseolio.constants.ts';

/** The request as `@Req()` gives it: Express's `Request` or Fastify's `FastifyRequest`. */
interface PlatformRequest {
  params?: { id?: string };
  query?: Record<string, unknown>;
}

/**
 * A controller serving the job routes under `prefix`, one handler per row of `reseolio/http`'s
 * route table. It is a real Nest controller, so the app's global prefix, guards and
 * interceptors apply as to any other; the answers are the shared handler's, the same as on
 * Fastify and Express, sent through the HTTP adapter so they work on both Nest platforms.
 * A class per call: the prefix is class metadata, and two apps in one process may differ.
 */
export function createJobRoutesController(prefix: string): Type {
  @Controller(prefix)
  class ReseolioJobRoutesController {
    readonly #log = new NestLoggerAdapter();

    constructor(
      @Inject(RESEOLIO_JOB_ROUTES) private readonly handle: JobRouteHandler<unknown>,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    async serve(
      action: (typeof JOB_ROUTES)[number]['action'],
      request: PlatformRequest,
      response: unknown,
    ): Promise<void> {
      const { status, body } = await this.handle(action, {
        request,
        id: request.params?.id,
        query: request.query ?? {},
        log: this.#log,
      });
      this.adapterHost.httpAdapter.reply(response, body, status);
    }
  }

  const prototype = ReseolioJobRoutesController.prototype as unknown as Record<string, unknown>;
  for (const route of JOB_ROUTES) {
    const name = `${route.action}Job`;
    prototype[name] = function (
      this: ReseolioJobRoutesController,
      request: PlatformRequest,
      response: unknown,
    ) {
      return this.serve(route.action, request, response);
    };
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)!;
    // What `@Get(path) name(@Req() request, @Res() response)` would record; @Res() leaves
    // sending to us, so the status can depend on the outcome.
    Req()(prototype, name, 0);
    Res()(prototype, name, 1);
    RequestMapping({ path: route.path, method: RequestMethod[route.method] })(
      prototype,
      name,
      descriptor,
    );
  }
  return ReseolioJobRoutesController;
}
