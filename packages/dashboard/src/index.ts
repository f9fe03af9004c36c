/**
 * `@reseolio/dashboard`: a web UI for Reseolio (overview, jobs, job pages with every attempt
 * and the parent/children tree, schedules, and actions), served by one framework-agnostic
 * handler that the Fastify plugin, the Express router, the Nest module and the CLI mount.
 */
export { createDashboard, type Dashboard } from './dashboard.ts';
export {
  type DashboardOptions,
  DEFAULT_STUCK_AFTER_MS,
  DEFAULT_TITLE,
  resolveDashboardOptions,
} from './options.ts';
