import { once } from 'node:events';
import { type LogRecord, runHttpConformance } from '@reseolio/http-conformance';
import type { Logger } from 'reseolio';
import {
  reseolioDashboard,
  reseolioMetricsRouter,
  reseolioRouter,
  reseolioScheduleRouter,
} from '../src/index.ts';
import { EXPRESS_VERSIONS } from './helpers.ts';

/** The router's `logger` option, recording what the suite reads. */
function capture(logs: LogRecord[]): Logger {
  const record =
    (level: LogRecord['level']) =>
    (message: string, ...meta: unknown[]) => {
      const details = meta.map((item) =>
        item instanceof Error ? String(item.stack) : String(item),
      );
      logs.push({ level, text: [message, ...details].join(' ') });
    };
  return { debug() {}, info() {}, warn: record('warn'), error: record('error') };
}

for (const { major, express } of EXPRESS_VERSIONS) {
  runHttpConformance({
    name: `express ${major}`,
    boot: async ({ engine, port, prefix, schedulePrefix, routes, metrics, dashboard }) => {
      const logs: LogRecord[] = [];
      const app = express();
      const logger = capture(logs);
      // Made before the engine starts, so its counters see every job.
      if (metrics !== undefined) {
        app.use(
          metrics.path,
          reseolioMetricsRouter({ instance: engine, logger, ...metrics.access }),
        );
      }
      // Express has no lifecycle: the app starts the engine it created.
      await engine.start();
      app.use(prefix, reseolioRouter({ instance: engine, logger, ...routes }));
      // The same authorize (or public) for both routers; waitMaxMs is the job routes' only.
      const { waitMaxMs: _, ...scheduleRoutes } = routes;
      app.use(
        schedulePrefix,
        reseolioScheduleRouter({ instance: engine, logger, ...scheduleRoutes }),
      );
      if (dashboard !== undefined) {
        app.use(
          dashboard.prefix,
          reseolioDashboard({ instance: engine, logger, ...dashboard.options }),
        );
      }
      const server = app.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return {
        logs,
        close: async () => {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    },
  });
}
