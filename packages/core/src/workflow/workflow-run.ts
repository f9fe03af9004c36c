import type { Clock } from '../clock.ts';
import { PayloadTooLargeError } from '../errors.ts';
import { serialize } from '../serialization/encode.ts';
import type { AttemptFence } from '../storage/records.ts';
import type { StorageAdapter } from '../storage/storage.ts';
import { Journal } from './journal.ts';
import { NEVER, Suspension } from './suspension.ts';

export interface WorkflowDeps {
  storage: StorageAdapter;
  clock: Clock;
  /** Waits longer than this suspend the job instead of holding its slot and lease, in ms. */
  suspendAfterMs: number;
  maxPayloadBytes: number;
}

/**
 * The workflow side of one attempt: its journal of recorded steps, its suspension, and the
 * children it started or re-attached to (only waits on those can suspend: their end wakes
 * this job).
 */
export class WorkflowRun {
  readonly journal: Journal;
  readonly suspension = new Suspension();
  readonly deps: WorkflowDeps;
  readonly fence: AttemptFence;
  readonly #children = new Set<string>();
  /** Children whose result() this run awaits right now. */
  readonly #awaited = new Set<string>();

  constructor(deps: WorkflowDeps, fence: AttemptFence) {
    this.deps = deps;
    this.fence = fence;
    this.journal = new Journal(deps.storage, fence, () => deps.clock.now());
  }

  now(): number {
    return this.deps.clock.now();
  }

  /** Serializes a value to record, refusing one over `maxPayloadBytes`. */
  encode(value: unknown, what: string): string {
    const text = serialize(value, what);
    const size = Buffer.byteLength(text);
    if (size > this.deps.maxPayloadBytes) {
      throw new PayloadTooLargeError(what, size, this.deps.maxPayloadBytes);
    }
    return text;
  }

  /** A job this one started (or re-attached to) in this run: its parent is this job. */
  addChild(jobId: string): void {
    this.#children.add(jobId);
  }

  isChild(jobId: string): boolean {
    return this.#children.has(jobId);
  }

  /**
   * Awaits a child's outcome; after `suspendAfterMs` still unfinished, suspends the job until
   * one of the children it awaits ends (storage wakes it), instead of holding a slot and a
   * lease meanwhile.
   */
  async awaitChild<T>(jobId: string, wait: Promise<T>): Promise<T> {
    this.#awaited.add(jobId);
    let timer: NodeJS.Timeout | undefined;
    const suspended = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const jobIds = [...this.#awaited];
        this.suspension
          .request({
            waitingFor: { kind: 'children', jobIds },
            runAt: NEVER,
            wake: { kind: 'children', jobIds },
          })
          .catch(reject);
      }, this.deps.suspendAfterMs);
    });
    try {
      return await Promise.race([wait, suspended]);
    } finally {
      clearTimeout(timer);
      this.#awaited.delete(jobId);
    }
  }
}
