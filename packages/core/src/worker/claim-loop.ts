import type { JobRecord } from '../storage/records.ts';

/**
 * The claim loop: one per pool. It claims as many jobs as there are free slots in one storage
 * call, and runs again whenever a slot frees or storage announces work.
 *
 * States (`#state`), the only place they change is in this file:
 *
 * ```
 *            request()                  next event-loop turn
 *   idle ─────────────────▶ scheduled ─────────────────────────▶ claiming
 *    ▲                                                             │  │
 *    │   the batch came back short and no wake-up arrived          │  │ a full batch, or a wake-up
 *    └─────────────────────────────────────────────────────────────┘  │ arrived meanwhile: claim
 *                                                                ◀────┘ again at once
 *   any ── stop() ──▶ stopped   (a claim in flight finishes; the pool hands its jobs back)
 * ```
 *
 * `request()` while scheduled or claiming only sets `#again`: bursts of wake-ups coalesce
 * into one claim. Across runs the loop also remembers whether the queue may hold work
 * (`#mayHaveWork`): a claim that came back short, with no announcement since, means nothing
 * due is left for our names, so a freed slot need not ask again.
 */
export class ClaimLoop {
  readonly #deps: ClaimLoopDeps;
  #state: 'idle' | 'scheduled' | 'claiming' | 'stopped' = 'idle';
  /** Claim (again) when the current run ends its claim. */
  #again = false;
  /**
   * False once a claim came back short and nothing has announced work since. Every
   * announcement (`wake()`) sets it; `#signals` counts them, so an announcement that arrives
   * while a claim is in flight keeps it set.
   */
  #mayHaveWork = true;
  #signals = 0;

  constructor(deps: ClaimLoopDeps) {
    this.#deps = deps;
  }

  /** False when the last claim found the queue empty and nothing announced work since. */
  get mayHaveWork(): boolean {
    return this.#mayHaveWork;
  }

  /** Work may be claimable (an announcement, a poll tick, a new registration). */
  wake(): void {
    this.#mayHaveWork = true;
    this.#signals += 1;
    this.#request();
  }

  /**
   * A slot (or room in the outcome budget) freed up. Claims only while the queue may still
   * hold work: without this, every finished job of a sequential workload cost two claims that
   * found nothing (one when its handler returned, one when its outcome committed), each a
   * round trip competing with the real work for the database.
   */
  slotFreed(): void {
    if (this.#mayHaveWork) this.#request();
  }

  /** No claim starts after this; one in flight still delivers its jobs to `start`. */
  stop(): void {
    this.#state = 'stopped';
  }

  #request(): void {
    if (this.#state === 'stopped') return;
    this.#again = true;
    if (this.#state !== 'idle') return;
    this.#state = 'scheduled';
    // One event-loop turn of coalescing, as for outcome writes. The handlers of a claimed
    // batch of fast jobs return one by one in the same turn; claiming at the first freed slot
    // cost a claim of one job for it, then one for the next few. After the turn, one claim
    // fills every slot that freed. An announcement waits no more than that turn.
    const turn = new Promise<void>((resolve) => setImmediate(resolve));
    this.#deps.track(turn.then(() => this.#run()));
  }

  async #run(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'claiming';
    const { claim, freeSlots, start } = this.#deps;
    try {
      while (this.#again && this.#state === 'claiming') {
        this.#again = false;
        const free = freeSlots();
        if (free <= 0) break;
        const signals = this.#signals;
        const jobs = await claim(free);
        if (jobs === undefined) break; // nothing to claim for (no names registered)
        for (const job of jobs) start(job);
        // A full batch suggests more is waiting: go again without waiting for a push. A short
        // one means nothing else is due, unless an announcement arrived meanwhile.
        if (jobs.length === free) this.#again = true;
        else if (this.#signals === signals) this.#mayHaveWork = false;
      }
    } catch (error) {
      this.#deps.report('claiming jobs failed; retrying on the next poll', error);
    } finally {
      if (this.#state === 'claiming') this.#state = 'idle';
    }
  }
}

export interface ClaimLoopDeps {
  /** Claims up to `limit` jobs; `undefined` when there is nothing to claim for. */
  claim(limit: number): Promise<JobRecord[] | undefined>;
  /** Slots a claim may fill now. */
  freeSlots(): number;
  /** Runs (or, while stopping, hands back) one claimed job. */
  start(job: JobRecord): void;
  /** Registers work in flight, so `stop()` waits for it. */
  track(work: Promise<unknown>): void;
  report(message: string, error: unknown): void;
}
