/** Token of the resolved `ReseolioModuleOptions`. */
export const RESEOLIO_MODULE_OPTIONS = 'RESEOLIO_MODULE_OPTIONS';

/** Token of the `Reseolio` engine; `@InjectReseolio()` is `@Inject(RESEOLIO_ENGINE)`. */
export const RESEOLIO_ENGINE = 'RESEOLIO_ENGINE';

/** Metadata key `@Durable()` stores its name and options under. */
export const DURABLE_METADATA = 'RESEOLIO_DURABLE_METADATA';

/** Context of the module's Nest `Logger`. */
export const RESEOLIO_LOGGER_CONTEXT = 'Reseolio';

/** @internal Token of the `EngineLifecycle` that starts and stops the engine. */
export const RESEOLIO_LIFECYCLE = 'RESEOLIO_LIFECYCLE';

/** @internal Token of the shared job-route handler served by the job routes controller. */
export const RESEOLIO_JOB_ROUTES = 'RESEOLIO_JOB_ROUTES';

/** @internal Token of the shared schedule-route handler served by the schedule routes controller. */
export const RESEOLIO_SCHEDULE_ROUTES = 'RESEOLIO_SCHEDULE_ROUTES';

/** @internal Token of the resolved `metrics` option, read by the metrics route. */
export const RESEOLIO_METRICS_OPTIONS = 'RESEOLIO_METRICS_OPTIONS';

/** @internal Token of the dashboard's request handler, served by the dashboard controller. */
export const RESEOLIO_DASHBOARD = 'RESEOLIO_DASHBOARD';

/** @internal Token of the dashboard controller's class, whose wildcard the module spells. */
export const RESEOLIO_DASHBOARD_CONTROLLER = 'RESEOLIO_DASHBOARD_CONTROLLER';
