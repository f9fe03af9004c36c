import type { LoggerService } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { type LogRecord, runHttpConformance } from '@reseolio/http-conformance';
import { ReseolioModule } from '../src/index.ts';
import type { HttpAdapterName } from './helpers.ts';

/** A Nest logger recording what the suite reads (warn and error). */
function capture(logs: LogRecord[]): LoggerService {
  const record =
    (level: LogRecord['level']) =>
    (message: unknown, ...params: unknown[]) => {
      logs.push({ level, text: [message, ...params].map(String).join(' ') });
    };
  return { log() {}, debug() {}, verbose() {}, warn: record('warn'), error: record('error') };
}

for (const adapter of ['express', 'fastify'] as HttpAdapterName[]) {
  runHttpConformance({
    name: `nestjs (${adapter} adapter)`,
    boot: async ({ engine, port, prefix, schedulePrefix, routes, metrics, dashboard }) => {
      const logs: LogRecord[] = [];
      const moduleRef = await Test.createTestingModule({
        imports: [
          ReseolioModule.forRoot({
            instance: engine,
            routes: { ...routes, prefix, schedulePrefix },
            metrics: metrics?.option,
            dashboard: dashboard?.option,
          }),
        ],
      }).compile();
      const options = { logger: capture(logs) };
      const app =
        adapter === 'fastify'
          ? moduleRef.createNestApplication(new FastifyAdapter(), options)
          : moduleRef.createNestApplication(options);
      await app.listen(port, '127.0.0.1');
      return { logs, close: () => app.close() };
    },
  });
}
