/**
 * `reseolio/http`: the integration kit the framework packages share. The job and schedule
 * routes (their tables, options, authorization and answers), the Prometheus metrics route, the
 * dashboard's mount, how an integration binds, starts and stops its engine, and the one error
 * type for integration options.
 */
export * from './authorize.ts';
export * from './dashboard-mount.ts';
export * from './dashboard-options.ts';
export * from './deprecated-options.ts';
export * from './engine-binding.ts';
export * from './engine-check.ts';
export * from './engine-lifecycle.ts';
export * from './integration-error.ts';
export * from './job-api.ts';
export * from './job-routes.ts';
export * from './metrics-options.ts';
export * from './metrics-route.ts';
export * from './prometheus-exporter.ts';
export * from './query.ts';
export * from './read-body.ts';
export * from './route-options.ts';
export * from './route-table.ts';
export * from './schedule-api.ts';
export * from './schedule-declaration.ts';
