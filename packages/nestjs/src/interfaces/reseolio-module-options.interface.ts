import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { Reseolio, ReseolioOptions } from 'reseolio';
import type {
  DashboardOption,
  EngineBindingOptions,
  JobRoutesOptions,
  MetricsOption,
} from 'reseolio/http';

/**
 * The job routes' options, shared with `@reseolio/fastify` and `@reseolio/express`.
 * `authorize` receives the platform's request, as `@Req()` gives it (Express's `Request` or
 * Fastify's `FastifyRequest`). To answer 401, throw `UnauthorizedException`; any other throw
 * answers 500 and is logged through Nest's `Logger`.
 */
export type ReseolioJobRoutesOptions = JobRoutesOptions<any>;

/**
 * The Prometheus route: `true` (at `/metrics`), a path, or
 * `{ path, authorize, public, processMetrics }` (see `MetricsRouteOptions` in `reseolio/http`).
 * `authorize` receives the platform's request, as for the job routes.
 */
export type ReseolioMetricsOptions = MetricsOption<any>;

/**
 * The dashboard: `true` (at `/dashboard`), a prefix, or
 * `{ prefix, authorize, public, readOnly, title, stuckAfterMs }` (see `DashboardRouteOptions`
 * in `reseolio/http`). `authorize` receives the platform's request, as for the job routes.
 */
export type ReseolioDashboardOptions = DashboardOption<any>;

/** Options both forms of the module accept. */
export interface ReseolioModuleCommonOptions extends Pick<EngineBindingOptions, 'stopTimeoutMs'> {
  /**
   * Serve the job routes (`GET /jobs/:id`, `/jobs/:id/result`, `POST /jobs/:id/retry`…) and
   * the schedule routes (`GET /schedules/:id`, `POST /schedules/:id/trigger`…, at
   * `schedulePrefix`; `schedulePrefix: false` for none) as controllers of this module, behind
   * one `authorize`: the same routes and answers as `@reseolio/fastify` and
   * `@reseolio/express`. Off by default. With `forRootAsync`, give them beside the factory.
   */
  routes?: ReseolioJobRoutesOptions | false | undefined;
  /**
   * Serve the engine's metrics in Prometheus's text format as a controller of this module:
   * `true` at `/metrics`, a string at that path, or an object. Behind the job routes'
   * `authorize` (or open if they are `public`) unless it has its own `authorize` or
   * `public: true`; without `routes`, one of the two is required. No OpenTelemetry setup
   * needed. Off by default. With `forRootAsync`, give it beside the factory.
   */
  metrics?: ReseolioMetricsOptions | false | undefined;
  /**
   * Serve the dashboard (`@reseolio/dashboard`, install it beside this module) as a controller
   * of this module: `true` at `/dashboard`, a string at that prefix, or an object. Behind the
   * job routes' `authorize` (or open if they are `public`) unless it has its own `authorize`
   * or `public: true`; without `routes`, one of the two is required. `readOnly: true` hides
   * and refuses every action. Off by default. With `forRootAsync`, give it beside the factory.
   */
  dashboard?: ReseolioDashboardOptions | false | undefined;
}

/**
 * The module builds and owns the engine: it starts workers on application bootstrap and, on
 * shutdown, stops claiming, drains running jobs for up to `stopTimeoutMs` and closes the
 * storage it opened.
 */
export interface ReseolioOwnedEngineOptions extends ReseolioOptions, ReseolioModuleCommonOptions {
  instance?: undefined;
  stopInstance?: undefined;
  /** @deprecated renamed `stopTimeoutMs` (same meaning); still accepted, with a warning. */
  drainTimeoutMs?: number | undefined;
}

/**
 * A borrowed engine, created by the caller. The module registers `@Durable()` methods on it
 * and starts its workers on bootstrap (`start()` is idempotent), but stops it on shutdown
 * only with `stopInstance: true`.
 */
export interface ReseolioBorrowedEngineOptions
  extends ReseolioModuleCommonOptions,
    Pick<EngineBindingOptions, 'stopInstance'> {
  instance: Reseolio;
}

/**
 * Options of `ReseolioModule.forRoot()`: engine options (`storage`, `workerConcurrency`, …)
 * or `{ instance }`, plus `stopTimeoutMs` and `routes`. Without a `logger`, the engine logs
 * through Nest's `Logger`.
 */
export type ReseolioModuleOptions = ReseolioOwnedEngineOptions | ReseolioBorrowedEngineOptions;

/** A class that `forRootAsync({ useClass | useExisting })` asks for the options. */
export interface ReseolioOptionsFactory {
  createReseolioOptions(): ReseolioModuleOptions | Promise<ReseolioModuleOptions>;
}

/** Options of `ReseolioModule.forRootAsync()`; give one of `useFactory`, `useClass`, `useExisting`. */
export interface ReseolioModuleAsyncOptions {
  /**
   * The job routes, given here rather than by the factory: Nest declares a module's routes
   * before its providers (the factory among them) exist.
   */
  routes?: ReseolioJobRoutesOptions | false | undefined;
  /** The Prometheus route, given here rather than by the factory, as `routes` is. */
  metrics?: ReseolioMetricsOptions | false | undefined;
  /** The dashboard, given here rather than by the factory, as `routes` is. */
  dashboard?: ReseolioDashboardOptions | false | undefined;
  /** Modules whose providers `inject`, `useClass` or `useExisting` need. */
  imports?: ModuleMetadata['imports'] | undefined;
  /** Builds the options from the providers listed in `inject`. */
  useFactory?:
    | ((...args: any[]) => ReseolioModuleOptions | Promise<ReseolioModuleOptions>)
    | undefined;
  /** Providers handed to `useFactory`, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[] | undefined;
  /** A class the module instantiates to get the options. */
  useClass?: Type<ReseolioOptionsFactory> | undefined;
  /** An existing provider (from `imports`) to get the options from. */
  useExisting?: Type<ReseolioOptionsFactory> | undefined;
}
