import type { Reseolio } from 'reseolio';

/** What the suite asks a framework's factory to boot. */
export interface BootOptions {
  /**
   * The engine to serve, made by the suite: pass it as the integration's `instance`
   * (borrowed). The app starts it as the framework does (Fastify `onReady`, Nest bootstrap;
   * an Express factory calls `engine.start()`); the suite stops it after the test.
   */
  engine: Reseolio;
  /** Listen on this port of 127.0.0.1 (from `freePort()`). */
  port: number;
  /** Mount the job routes here: `routes.prefix` on Fastify and Nest, `app.use(prefix, …)` on Express. */
  prefix: string;
  /**
   * Mount the schedule routes here, behind the same `routes` options (`authorize` or
   * `public`): `routes.schedulePrefix` on Fastify and Nest,
   * `app.use(schedulePrefix, reseolioScheduleRouter(…))` on Express.
   */
  schedulePrefix: string;
  /** The job routes' options, as the user would pass them. `authorize` reads `request.headers`. */
  routes: {
    authorize?: ((request: any) => boolean | Promise<boolean>) | undefined;
    public?: true | undefined;
    waitMaxMs?: number | undefined;
  };
  /** Serve the Prometheus route too (see {@link MetricsBoot}); `undefined`: no metrics route. */
  metrics?: MetricsBoot | undefined;
  /** Serve the dashboard too (see {@link DashboardBoot}); `undefined`: no dashboard. */
  dashboard?: DashboardBoot | undefined;
}

/** The dashboard a test asks for, in the two forms the frameworks take it. */
export interface DashboardBoot {
  /** The `dashboard` option as a Fastify or Nest user writes it (beside `routes`). */
  option: true | string | { prefix?: string; public?: true; readOnly?: boolean };
  /** Where the option serves it: Express mounts `reseolioDashboard` here. */
  prefix: string;
  /**
   * What Express's `reseolioDashboard` gets beside `instance`: the access the option resolves
   * to on Fastify and Nest (the job routes' `authorize`, or `public: true`), and `readOnly`.
   */
  options: {
    authorize?: BootOptions['routes']['authorize'];
    public?: true;
    readOnly?: boolean;
  };
}

/** The Prometheus route a test asks for, in the two forms the frameworks take it. */
export interface MetricsBoot {
  /** The `metrics` option as a Fastify or Nest user writes it (beside `routes`). */
  option: true | string | { path?: string; public?: true };
  /** Where the option serves the metrics: Express mounts `reseolioMetricsRouter` here. */
  path: string;
  /**
   * What Express's `reseolioMetricsRouter` gets beside `instance`: the access the option
   * resolves to on Fastify and Nest (the job routes' `authorize`, or `public: true`).
   */
  access: { authorize?: BootOptions['routes']['authorize']; public?: true };
}

/** One thing the framework's logger wrote at warn level or above. */
export interface LogRecord {
  level: 'warn' | 'error';
  /** The message with whatever the logger printed of the error (message, stack, fields). */
  text: string;
}

/** A real app of one framework, listening on `BootOptions.port`. */
export interface BootedApp {
  /** Filled as the app logs, through the logger the integration uses in that framework. */
  logs: LogRecord[];
  /** Closes the app (the suite stops the engine itself). */
  close(): Promise<void>;
}

/** Boots one app per test. */
export type BootApp = (options: BootOptions) => Promise<BootedApp>;

export interface HttpConformanceOptions {
  /** Shown as the top-level `describe`, e.g. `'fastify'`, `'nestjs (fastify adapter)'`. */
  name: string;
  boot: BootApp;
}
