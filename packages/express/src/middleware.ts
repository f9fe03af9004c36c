import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Reseolio, ReseolioStateError } from 'reseolio';
import { assertEngine, resolveMiddlewareOptions } from './options.ts';
import type { MiddlewareOptions } from './types.ts';

/**
 * Puts the engine on `req.reseolio`. Validates its arguments now, synchronously, and throws
 * `ReseolioValidationError` for a missing engine or a bad option.
 */
export function reseolioMiddleware(engine: Reseolio, options?: MiddlewareOptions): RequestHandler {
  assertEngine(engine, 'reseolioMiddleware');
  const { optional } = resolveMiddlewareOptions(options);
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
