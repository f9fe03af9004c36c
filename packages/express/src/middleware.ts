import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Reseolio, ReseolioStateError } from 'reseolio';
import { optionsFrom, resolveMiddlewareOptions } from './options.ts';
import type { MiddlewareOptions } from './types.ts';

/**
 * Puts the engine on `req.reseolio`. Validates its options now, synchronously, and throws
 * `IntegrationConfigError` for a missing engine or a bad option.
 */
export function reseolioMiddleware(options: MiddlewareOptions): RequestHandler;
/** @deprecated pass the engine as an option: `reseolioMiddleware({ instance: reseolio })`. */
export function reseolioMiddleware(
  engine: Reseolio,
  options?: Omit<MiddlewareOptions, 'instance'>,
): RequestHandler;
export function reseolioMiddleware(first: unknown, second?: unknown): RequestHandler {
  const { engine, optional } = resolveMiddlewareOptions(
    optionsFrom(first, second, 'reseolioMiddleware'),
  );
  return function reseolio(req: Request, _res: Response, next: NextFunction): void {
    // Mounted twice (app-wide and on a router): the first one wins, the rest pass through.
    if (req.reseolio !== undefined) {
      next();
      return;
    }
    req.reseolio = engine;
    // A draining engine ('stopping') still accepts calls; only a stopped one cannot.
    if (!optional && engine.state === 'stopped') {
      next(unavailable(engine.state));
      return;
    }
    next();
  };
}

/** A 503 for Express's error handler, which reads `status`. */
function unavailable(state: string): ReseolioStateError & { status: number } {
  const error = new ReseolioStateError(
    `Reseolio is ${state}: this process no longer accepts jobs. Retry the request.`,
  );
  return Object.assign(error, { status: 503 });
}
