import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'reseolio';

/**
 * The routes' `(message, ...meta)` logger over a pino-style Fastify logger, whose first
 * argument is the merge object. A lone `Error` goes under `err` so pino serializes its stack.
 */
export function fastifyLogger(log: FastifyBaseLogger): Logger {
  const child = log.child({ plugin: '@reseolio/fastify' });
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, ...meta: unknown[]): void => {
      if (meta.length === 0) child[level](message);
      else if (meta.length === 1 && meta[0] instanceof Error)
        child[level]({ err: meta[0] }, message);
      else child[level]({ meta }, message);
    };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
