/**
 * `reseolio/storage`: the seam between the engine and a database, for adapter authors. An
 * adapter implements `StorageAdapter`, passes `@reseolio/storage-contract`, throws
 * `StorageError` (or a subclass) for driver failures and `StorageConfigError` for a
 * configuration that cannot work, and exports a `StorageProvider` as `storageProvider` so a
 * URL can name it. Applications import from `reseolio`.
 */
export { describeValue } from '../describe-value.ts';
export {
  ReseolioError,
  ReseolioStateError,
  StorageConfigError,
  StorageError,
  type StorageErrorOptions,
} from '../errors.ts';
export {
  type ConcurrencyGroupState,
  claimOrder,
  type FlowCandidate,
  type FlowPlan,
  type FlowPlanInput,
  planFlowClaim,
  type RateGroupState,
} from './flow-plan.ts';
export { MemoryStorage } from './memory-storage.ts';
export type * from './migration-status.ts';
export { emptyStatusCounts, type StatusGroup, statsFromGroups } from './name-stats.ts';
export type * from './records.ts';
export { attemptOutcomeOf, FINAL_STATUSES, insertedRecord, JOB_STATUSES } from './records.ts';
export type * from './schedule-records.ts';
export { SCHEDULE_STATUSES } from './schedule-records.ts';
export type * from './storage.ts';
export { MAX_STATE_BATCH } from './storage.ts';
export type { StorageProvider } from './storage-provider.ts';
export type * from './workflow-records.ts';
