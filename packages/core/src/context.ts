import { AsyncLocalStorage } from 'node:async_hooks';
import type { ProgressReporter } from './progress/progress-reporter.ts';
import type { JobContext } from './types.ts';
import type { WorkflowRun } from './workflow/workflow-run.ts';

/** What the engine keeps about the attempt a piece of code runs in. */
export interface AttemptContext extends JobContext {
  /** Per child name: how many un-keyed children this attempt has started (deterministic keys). */
  readonly childCalls: Map<string, number>;
  /** The engine that runs the attempt; children of another engine are not its children. */
  readonly engine: object;
  /** Names the attempt within its engine's worker pool (job id and lease token). */
  readonly attemptKey: string;
  /** Steps, waits and children of this attempt (`step`, `sleep`, `waitForSignal`). */
  readonly workflow: WorkflowRun;
  /** This attempt's progress reports (`reportProgress`), coalesced. */
  readonly progress: ProgressReporter;
}

export const attemptStorage = new AsyncLocalStorage<AttemptContext>();

/**
 * The job the calling code runs in, or `undefined` outside a handler.
 * `signal` aborts on attempt timeout, cancellation, lost lease and shutdown.
 */
export function currentJob(): JobContext | undefined {
  const context = attemptStorage.getStore();
  if (!context) return undefined;
  const { jobId, name, attempt, parentId, signal } = context;
  return { jobId, name, attempt, parentId, signal };
}
