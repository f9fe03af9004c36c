import type { FastifyRequest } from 'fastify';
import {
  IntegrationConfigError,
  type ResolvedDashboardOptions,
  type ResolvedEngineBinding,
  type ResolvedJobApiOptions,
  type ResolvedMetricsOptions,
  renameDeprecatedOptions,
  resolveDashboardOptions,
  resolveEngineBinding,
  resolveJobApiOptions,
  resolveMetricsOptions,
} from 'reseolio/http';
import type { ReseolioPluginOptions } from './types.ts';

export interface ResolvedPluginOptions {
  binding: ResolvedEngineBinding;
  routes: (ResolvedJobApiOptions<FastifyRequest> & { prefix: string }) | null;
  metrics: (ResolvedMetricsOptions<FastifyRequest> & { path: string }) | null;
  dashboard: (ResolvedDashboardOptions<FastifyRequest> & { prefix: string }) | null;
}

const WHERE = '@reseolio/fastify options';

/**
 * Validates the plugin's own options and splits off the engine's; the rules shared with the
 * other integrations live in `reseolio/http`. Engine options themselves are validated by
 * `new Reseolio()`, which names the bad option.
 */
export function resolvePluginOptions(
  raw: ReseolioPluginOptions | undefined,
): ResolvedPluginOptions {
  if (raw === undefined) raw = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new IntegrationConfigError(`${WHERE} must be an object.`);
  }
  const all = renameDeprecatedOptions(raw as Record<string, unknown>, '@reseolio/fastify', WHERE);
  if ('prefix' in all) {
    throw new IntegrationConfigError(
      "@reseolio/fastify does not take a prefix: set the job routes' prefix with routes: { prefix }.",
    );
  }
  const routes =
    all.routes === undefined || all.routes === false
      ? null
      : resolveJobApiOptions<FastifyRequest>(all.routes, 'routes');
  // Behind the job routes' authorize unless it has its own (or public: true).
  const metrics = resolveMetricsOptions<FastifyRequest>(all.metrics, 'metrics', {
    inherited: routes?.authorize,
  });
  // The same rule: a dashboard shows job data, so it is never open by accident.
  const dashboard = resolveDashboardOptions<FastifyRequest>(all.dashboard, 'dashboard', {
    inherited: routes?.authorize,
  });
  return {
    binding: resolveEngineBinding(all, WHERE, { ownKeys: ['routes', 'metrics', 'dashboard'] }),
    routes: routes as ResolvedPluginOptions['routes'],
    metrics: metrics as ResolvedPluginOptions['metrics'],
    dashboard: dashboard as ResolvedPluginOptions['dashboard'],
  };
}
