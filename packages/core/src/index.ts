export type { Clock } from './clock.ts';
export { currentJob } from './context.ts';
export { describeValue } from './describe-value.ts';
export * from './errors.ts';
export {
  type AttemptJSON,
  type JobJSON,
  type ScheduleJSON,
  type StepJSON,
  toJobJSON,
  toJSONValue,
  toScheduleJSON,
} from './job-json.ts';
export { DEFAULT_RETRY_POLICY } from './options/defaults.ts';
export { MAX_PROGRESS_BYTES } from './progress/progress-value.ts';
export { reportProgress } from './progress/report-progress.ts';
export { Reseolio, type ReseolioState } from './reseolio.ts';
export type * from './schedules/types.ts';
export { deserialize } from './serialization/decode.ts';
export { MAX_PAYLOAD_DEPTH, serialize } from './serialization/encode.ts';
export { MemoryStorage } from './storage/memory-storage.ts';
// Storage as an application sees it: the option's types. Everything an adapter author needs
// (records, the fences, helpers) is in `reseolio/storage`.
export type { JobCountFilter, JobFilter, JobStatus } from './storage/records.ts';
export { FINAL_STATUSES } from './storage/records.ts';
export type { StorageAdapter, StorageCapabilities } from './storage/storage.ts';
export type { StorageProvider } from './storage/storage-provider.ts';
export type { ProcessOutcome } from './telemetry/attempt-trace.ts';
export {
  type AttemptOutcomeLabel,
  type CompletedOutcomeLabel,
  METRICS,
  SECONDS_BUCKETS,
} from './telemetry/metric-names.ts';
export {
  type MetricsSink,
  type MetricsSource,
  observeMetrics,
  type WorkerSnapshot,
} from './telemetry/metrics-sink.ts';
export type { FunctionStats, ReseolioStats } from './telemetry/stats.ts';
export type { TelemetryOptions } from './telemetry/telemetry-options.ts';
export type * from './types.ts';
export { CALL_OPTION_KEYS } from './types.ts';
export { retryDelayMs } from './worker/backoff.ts';
export { ShutdownError } from './worker/pool.ts';
export { sleep, step, type WaitForSignalOptions, waitForSignal } from './workflow/primitives.ts';
export type { WaitingFor } from './workflow/waiting-for.ts';
