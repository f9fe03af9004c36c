/**
 * Validates every option once, at the edge, and fills defaults; the rest of the engine only
 * sees resolved values. Each error names the option, the bad value and what is accepted.
 *
 * One concept a file, under `options/`: `bounds.ts` (the largest accepted values),
 * `defaults.ts`, `validators.ts` (the checks the parsers are built from), `engine-options.ts`
 * (`new Reseolio(options)`), `retry-policy.ts` (registration options and retry keys),
 * `call-options.ts` (per-call options), `method-arguments.ts` (`result()`, `stop()`),
 * `job-filter.ts` (`listJobs()`, `countJobs()`, the bulk actions), `completions-options.ts`
 * and `names.ts` (function names and namespace parts). This file re-exports
 * them for the modules that import `./options.ts`.
 */

export {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_LIST_LIMIT,
  MAX_LIST_OFFSET,
  MAX_RETRY_DELAY_MS,
  MAX_TIME_MS,
  MAX_TIMER_MS,
} from './options/bounds.ts';
export {
  foreignCallOptionKeys,
  isCallOptions,
  runAtOf,
  validateCallOptions,
} from './options/call-options.ts';
export { resolveCompletionsOptions } from './options/completions-options.ts';
export { DEFAULT_RETRY_POLICY } from './options/defaults.ts';
export { type ResolvedOptions, resolveEngineOptions } from './options/engine-options.ts';
export {
  resolveBulkOptions,
  resolveCountFilter,
  resolveListFilter,
} from './options/job-filter.ts';
export {
  resolveStopTimeout,
  validateResultTimeout,
} from './options/method-arguments.ts';
export { validateFunctionName, validateNamespacePart } from './options/names.ts';
export {
  hasRetryOption,
  resolveRetryPolicy,
  validateDurableOptions,
} from './options/retry-policy.ts';
export { isPlainObject, unstorableText } from './options/validators.ts';
