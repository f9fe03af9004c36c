import { IncomingMessage } from 'node:http';
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
import { JOB_ROUTES, type JobRouteRequest, readJsonBody, SCHEDULE_ROUTES } from 'reseolio/http';
import { NestLoggerAdapter } from './nest-logger.adapter.ts';
import { RESEOLIO_JOB_ROUTES, RESEOLIO_SCHEDULE_ROUTES } from './reseolio.constants.ts';

/** The request as `@Req()` gives it: Express's `Request` or Fastify's `FastifyRequest`. */
interface PlatformRequest {
  params?: { id?: string; topic?: string };
  query?: Record<string, unknown>;
  /** Parsed by the platform's JSON body parser (Nest mounts one by default). */
  body?: unknown;
  headers?: Record<string, unknown>;
}

/**
 * A controller serving the job routes under `prefix`, one handler per row of `reseolio/http`'s
 * route table. It is a real Nest controller, so the app's global prefix, guards and
 * interceptors apply as to any other; the answers are the shared handler's, the same as on
 * Fastify and Express, sent through the HTTP adapter so they work on both Nest platforms.
 * A class per call: the prefix is class metadata, and two apps in one process may differ.
 */
export function createJobRoutesController(prefix: string): Type {
  return createRoutesController(prefix, JOB_ROUTES, RESEOLIO_JOB_ROUTES, 'Job');
}

/**
 * The schedule routes' controller under `schedulePrefix`, the same way: one handler per row
 * of `SCHEDULE_ROUTES`, answered by the shared schedule handler (same `authorize`).
 */
export function createScheduleRoutesController(prefix: string): Type {
  return createRoutesController(prefix, SCHEDULE_ROUTES, RESEOLIO_SCHEDULE_ROUTES, 'Schedule');
}

type RouteHandler<Action extends string> = (
  action: Action,
  request: JobRouteRequest<unknown>,
) => Promise<{ status: number; body: unknown }>;

function createRoutesController<Action extends string>(
  prefix: string,
  table: readonly { method: 'GET' | 'POST'; path: string; action: Action }[],
  token: symbol | string,
  noun: 'Job' | 'Schedule',
): Type {
  @Controller(prefix)
  class ReseolioRoutesController {
    readonly #log = new NestLoggerAdapter();

    constructor(
      @Inject(token) private readonly handle: RouteHandler<Action>,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    async serve(action: Action, request: PlatformRequest, response: unknown): Promise<void> {
      const { status, body } = await this.handle(action, {
        request,
        id: request.params?.id,
        topic: request.params?.topic,
        query: request.query ?? {},
        body: request.body,
        // On the Express platform with its body parser off (or skipping the request), the
        // stream is still unread: read it after authorize as the Express router does.
        readBody:
          request instanceof IncomingMessage
            ? () => readJsonBody(request as IncomingMessage)
            : undefined,
        headers: request.headers,
        log: this.#log,
      });
      this.adapterHost.httpAdapter.reply(response, body, status);
    }
  }

  // The class name shows in Nest's route log: ReseolioJobRoutesController, ReseolioSchedule…
  Object.defineProperty(ReseolioRoutesController, 'name', {
    value: `Reseolio${noun}RoutesController`,
  });
  const prototype = ReseolioRoutesController.prototype as unknown as Record<string, unknown>;
  for (const route of table) {
    const name = `${route.action}${noun}`;
    prototype[name] = function (
      this: ReseolioRoutesController,
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
  return ReseolioRoutesController;
}
