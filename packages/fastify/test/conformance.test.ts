import { Writable } from 'node:stream';
import { type LogRecord, runHttpConformance } from '@reseolio/http-conformance';
import reseolio from '../src/index.ts';
import { makeApp } from './helpers.ts';

/** pino's JSON lines, at warn (40) and above, as the suite reads them. */
function capture(logs: LogRecord[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        const { level } = JSON.parse(line) as { level: number };
        if (level >= 40) logs.push({ level: level >= 50 ? 'error' : 'warn', text: line });
      }
      done();
    },
  });
}

runHttpConformance({
  name: 'fastify',
  boot: async ({ engine, port, prefix, schedulePrefix, routes, metrics, dashboard }) => {
    const logs: LogRecord[] = [];
    const app = makeApp({ logger: { level: 'warn', stream: capture(logs) } });
    await app.register(reseolio, {
      instance: engine,
      routes: { ...routes, prefix, schedulePrefix },
      metrics: metrics?.option,
      dashboard: dashboard?.option,
    });
    await app.listen({ host: '127.0.0.1', port });
    return { logs, close: () => app.close() };
  },
});
