import type { FastifyRequest } from 'fastify';
import type { Reseolio, ReseolioOptions } from 'reseolio';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Reseolio engine registered by `@reseolio/fastify`. */
    reseolio: Reseolio;
  }
}

/**
 * The optional job routes. They expose job arguments, results and errors, so enabling them
 * requires `authorize` or an explicit `public: true`.
 *
 * | route                        | answers                                                        |
 * | ---------------------------- | -------------------------------------------------------------- |
 * | `GET /:id`                   | 200 `{ job }`                                                  |
 * | `GET /?status&name&limit&offset` | 200 `{ jobs, limit, offset }`, newest first                |
 * | `POST /:id/retry`            | 200 `{ job }`; 409 unless the job is dead or cancelled         |
 * | `POST /:id/cancel`           | 200 `{ job }`; 409 when the job had already finished           |
 * | `GET /:id/result?waitMs=N`   | 200 `{ jobId, status, result }`; 202 `{ jobId, status }` when not finished; 409 when dead or cancelled |
 *
 * Errors answer `{ error: { code, message } }`: 400 bad params or query, 401 `authorize`
 * threw, 403 `authorize` returned anything but `true`, 404 unknown job, 503 engine stopping
 * or database failed (`RESEOLIO_STORAGE`, the error logged through `app.log`).
 */
export interface JobRoutesOptions {
  /** Where the routes are mounted. @default '/jobs' */
  prefix?: string | undefined;
  /**
   * Runs before every job route, before params are validated. Return `true` to allow; any
   * other value answers 403. Throw to signal the caller is not authenticated: 401 (the error
   * is logged at warn level, never sent). No job data reaches a refused caller.
   */
  authorize?: ((request: FastifyRequest) => boolean | Promise<boolean>) | undefined;
  /** Serve the routes without `authorize`. Required to make that choice explicit. */
  public?: true | undefined;
  /**
   * Upper bound of `waitMs` on `GET /:id/result`, in milliseconds; larger values are capped.
   * Keep it below your proxies' idle timeout. An integer from 0 to 2147483647. @default 25000
   */
  waitMaxMs?: number | undefined;
}

/** Options every form of the plugin accepts. */
export interface ReseolioPluginCommonOptions {
  /** Serve the job routes. Off by default. */
  routes?: JobRoutesOptions | false | undefined;
  /**
   * How long `app.close()` lets running jobs finish before handing them back to storage for
   * another node, in milliseconds (`engine.stop({ timeoutMs })`): an integer from 0 to
   * 2147483647 (about 24.8 days, the longest a Node.js timer waits). @default 10000
   */
  stopTimeoutMs?: number | undefined;
}

/**
 * The plugin builds and owns the engine from these options (see `ReseolioOptions` in
 * `reseolio`); it is stopped, and storage it opened closed, on `app.close()`. Unless
 * `logger` is given, the engine logs through `app.log`. As with `new Reseolio()`, leave
 * `storage` out for the SQLite default: given as `undefined` (an unset environment variable)
 * it is an error.
 */
export type ReseolioPluginEngineOptions = ReseolioOptions &
  ReseolioPluginCommonOptions & { instance?: undefined; closeInstance?: undefined };

/**
 * The plugin borrows an engine made by the app. It is started when the app is ready, but
 * stopped on `app.close()` only with `closeInstance: true`.
 */
export type ReseolioPluginInstanceOptions = ReseolioPluginCommonOptions & {
  instance: Reseolio;
  /** Stop the borrowed engine on `app.close()`. @default false */
  closeInstance?: boolean | undefined;
} & { [K in keyof ReseolioOptions]?: undefined };

/** `app.register(reseolio, options)`. */
export type ReseolioPluginOptions = ReseolioPluginEngineOptions | ReseolioPluginInstanceOptions;
