import { reseolio } from './plugin.ts';

export { reseolioPlugin } from './plugin.ts';
export type {
  JobRoutesOptions,
  ReseolioPluginCommonOptions,
  ReseolioPluginEngineOptions,
  ReseolioPluginInstanceOptions,
  ReseolioPluginOptions,
} from './types.ts';

export default reseolio;
