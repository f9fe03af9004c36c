import type { NextFunction, Request, Response } from 'express';

/**
 * Passes a rejected promise (or a throw) of `handler` to `next(err)`. Express 5 does this
 * itself; Express 4 ignores returned promises, so without it a rejection never reaches the
 * error handler and the request hangs.
 */
export function wrapAsync<Req extends Request = Request, Res extends Response = Response>(
  handler: (req: Req, res: Res, next: NextFunction) => unknown,
): (req: Req, res: Res, next: NextFunction) => void {
  return function wrappedAsync(req, res, next) {
    Promise.resolve()
      .then(() => handler(req, res, next))
      .catch(next);
  };
}
