export { IntegrationConfigError } from 'reseolio/http';
export { Durable, type DurableMethodDecorator } from './decorators/durable.decorator.ts';
export { InjectReseolio } from './decorators/inject-reseolio.decorator.ts';
export { DurableHandles } from './durable-handles.ts';
export { DuplicateDurableError } from './errors/duplicate-durable.error.ts';
export { NotDurableError } from './errors/not-durable.error.ts';
export type { DurableHandlesOf } from './interfaces/durable-handles.interface.ts';
export type {
  DurableDecoratorOptions,
  DurableMetadata,
  DurableMethodOptions,
  DurableScheduleOptions,
} from './interfaces/durable-options.interface.ts';
export type {
  ReseolioBorrowedEngineOptions,
  ReseolioDashboardOptions,
  ReseolioJobRoutesOptions,
  ReseolioMetricsOptions,
  ReseolioModuleAsyncOptions,
  ReseolioModuleCommonOptions,
  ReseolioModuleOptions,
  ReseolioOptionsFactory,
  ReseolioOwnedEngineOptions,
} from './interfaces/reseolio-module-options.interface.ts';
export { NestLoggerAdapter } from './nest-logger.adapter.ts';
export {
  DURABLE_METADATA,
  RESEOLIO_ENGINE,
  RESEOLIO_MODULE_OPTIONS,
} from './reseolio.constants.ts';
export { ReseolioModule } from './reseolio.module.ts';
