import { Controller, Get, Req, Res, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { NestLoggerAdapter } from './nest-logger.adapter.ts';
import { ReseolioMetricsRoute } from './reseolio-metrics.route.ts';

/**
 * A controller serving `GET <path>` with the engine's Prometheus text. Like the job routes'
 * controller it is a real Nest controller (global prefix, guards and interceptors apply) and
 * answers through the HTTP adapter, so it works on both Nest platforms. A class per call: the
 * path is class metadata.
 */
export function createMetricsController(path: string): Type {
  @Controller(path)
  class ReseolioMetricsController {
    readonly #log = new NestLoggerAdapter();

    constructor(
      private readonly route: ReseolioMetricsRoute,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    @Get()
    async metrics(@Req() request: unknown, @Res() response: unknown): Promise<void> {
      const answer = await this.route.handle({ request, log: this.#log });
      const { httpAdapter } = this.adapterHost;
      if (answer.contentType !== undefined) {
        httpAdapter.setHeader(response, 'content-type', answer.contentType);
      }
      httpAdapter.reply(response, answer.body, answer.status);
    }
  }
  return ReseolioMetricsController;
}
