import { reseolio } from './plugin.ts';

export { IntegrationConfigError } from 'reseolio/http';
export { reseolioPlugin } from './plugin.ts';
export type {
  DashboardOptions,
  JobRoutesOptions,
  MetricsOptions,
  ReseolioPluginCommonOptions,
  ReseolioPluginEngineOptions,
  ReseolioPluginInstanceOptions,
  ReseolioPluginOptions,
} from './types.ts';

export default reseolio;
