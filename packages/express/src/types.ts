import type { Request } from 'express';
import type { Reseolio } from 'reseolio';

declare global {
  namespace Express {
    interface Request {
      /** The engine attached by `reseolioMiddleware`. */
      reseolio: Reseolio;
    }
  }
}

/** Options of `reseolioMiddleware(reseolio, options)`. */
export interface MiddlewareOptions {
  /**
   * A stopped engine cannot enqueue, so by default the middleware passes a 503 error
   * (`status: 503`, code `RESEOLIO_INVALID_STATE`) to `next` instead of running the handler.
   * A draining engine (`stopping`) still accepts jobs and is let through. `true` attaches the
   * engine and continues anyway, for routes that only sometimes use it. @default false
   */
  optional?: boolean | undefined;
}

/**
 * Options of `reseolioRouter(reseolio, options)`. The routes expose job arguments, results
 * and errors, so `authorize` or an explicit `public: true` is required.
 *
 * | route                            | answers                                                |
 * | -------------------------------- | ------------------------------------------------------ |
 * | `GET /:id`                       | 200 `{ job }`                                          |
 * | `GET /?status&name&limit&offset` | 200 `{ jobs, limit, offset }`, newest first            |
 * | `POST /:id/retry`                | 200 `{ job }`; 409 unless the job is dead or cancelled |
 * | `POST /:id/cancel`               | 200 `{ job }`; 409 when the job had already finished   |
 * | `GET /:id/result?waitMs=N`       | 200 `{ jobId, status, result }`; 202 `{ jobId, status }` when not finished; 409 when dead or cancelled |
 *
 * Errors answer `{ error: { code, message } }`: 400 bad params or query, 401 `authorize`
 * threw, 403 `authorize` returned anything but `true`, 404 unknown job, 503 engine stopping
 * or database failed (`RESEOLIO_STORAGE`, the error written with `console.error`).
 * Any other failure goes to `next(err)`, your error handler.
 */
export interface JobRouterOptions {
  /**
   * Runs before every job route, before the query is validated. Return `true` to allow; any
   * other value answers 403. Throw to signal the caller is not authenticated: 401 (the error
   * is never sent). No job data reaches a refused caller.
   */
  authorize?: ((req: Request) => boolean | Promise<boolean>) | undefined;
  /** Serve the routes without `authorize`. Required to make that choice explicit. */
  public?: true | undefined;
  /**
   * Upper bound of `waitMs` on `GET /:id/result`, in milliseconds; larger values are capped.
   * Keep it below your proxies' idle timeout. An integer from 0 to 2147483647. @default 25000
   */
  waitMaxMs?: number | undefined;
}

/** What `onShutdown` learns about the shutdown that just finished. */
export interface ShutdownInfo {
  /** The signal that started it; `undefined` when `shutdown()` was called directly. */
  signal: NodeJS.Signals | undefined;
  /** The first error from stopping the engine or closing the server, if any. */
  error: unknown;
}

/** Options of `attachShutdown(server, reseolio, options)`. */
export interface ShutdownOptions {
  /** Signals that start the shutdown. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[] | undefined;
  /**
   * How long running jobs may finish (`engine.stop({ timeoutMs })`), and how long open
   * connections may finish their requests before they are closed, in milliseconds: an
   * integer from 0 to 2147483647 (about 24.8 days, the longest a Node.js timer waits).
   * @default 10000
   */
  timeoutMs?: number | undefined;
  /**
   * Called once everything is closed, instead of `process.exit()`. Without it the process
   * exits with code 0, or 1 when stopping failed.
   */
  onShutdown?: ((info: ShutdownInfo) => void | Promise<void>) | undefined;
}

/**
 * What `attachShutdown` returns: call it to remove the signal listeners (detach), or call
 * `shutdown()` to run the shutdown without a signal.
 */
export interface ShutdownController {
  (): void;
  /** Runs the shutdown once; later calls return the same promise. */
  shutdown(signal?: NodeJS.Signals): Promise<void>;
}

/** The part of `http.Server` (or `https.Server`) that shutdown uses. */
export interface ClosableServer {
  close(callback?: (error?: Error) => void): unknown;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
}
