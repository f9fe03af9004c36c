export { IntegrationConfigError } from 'reseolio/http';
export { reseolioDashboard } from './dashboard.ts';
export { reseolioMiddleware } from './middleware.ts';
export { reseolioMetricsRouter, reseolioRouter, reseolioScheduleRouter } from './router.ts';
export { attachShutdown } from './shutdown.ts';
export type {
  ClosableServer,
  DashboardRouterOptions,
  JobRouterOptions,
  MetricsRouterOptions,
  MiddlewareOptions,
  ScheduleRouterOptions,
  ShutdownController,
  ShutdownInfo,
  ShutdownOptions,
} from './types.ts';
export { wrapAsync } from './wrap-async.ts';
