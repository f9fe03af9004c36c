import type { Clock } from '../clock.ts';
import { ReseolioError } from '../errors.ts';
import { uuidv7 } from '../ids.ts';
import type { JobFlowFields } from '../options/flow-options.ts';
import { FINAL_STATUSES, type NewJob } from '../storage/records.ts';
import type { ScheduleRecord } from '../storage/schedule-records.ts';
import type { StorageAdapter } from '../storage/storage.ts';
import type { Producer } from '../telemetry/producer.ts';
import type { Logger } from '../types.ts';
import { DueTimer } from '../worker/due-timer.ts';
import { dueTicks } from './catch-up.ts';
import { type ParsedSchedule, parseSchedule } from './cron.ts';

/**
 * How often a scheduler reads the earliest next run again, in ms, to see schedules declared,
 * edited or resumed by other processes. Its own changes and its own fires re-arm the timer
 * at once; between reads, the timer fires each known tick on time.
 */
export const SCHEDULE_RESYNC_MS = 5_000;
/** How soon a look again follows one that left a due schedule unfired, in ms. */
const UNFIRED_RETRY_MS = 1_000;
/** Due schedules fired per read; a node with more reads again at once. */
const DUE_BATCH = 50;
/** With `catchUp: 'all'`, at most this many missed ticks of one schedule run. */
export const MAX_CATCH_UP_RUNS = 100;

const FINAL = new Set(FINAL_STATUSES);

/** What a scheduled job needs from the function's registration in this process. */
export interface ScheduledFunction {
  /** The serialized retry policy every job of the function stores. */
  policyText(): string;
  maxAttempts(): number;
  /** The priority and keys a run with these (serialized) arguments stores. */
  flowFields(args: string): JobFlowFields;
}

export interface SchedulerDeps {
  storage: StorageAdapter;
  clock: Clock;
  logger: Logger;
  /** The functions this process registered, by name: it fires only their schedules. */
  functions(): ReadonlyMap<string, ScheduledFunction>;
  /** Stores each tick's jobs (counted and traced like any enqueue). */
  producer: Producer;
  /** A background failure (a read or a fire that failed); the scheduler keeps going. */
  onError(error: ReseolioError): void;
}

/**
 * Fires the ticks of the schedules of this process's functions. There is no leader: every
 * node that registered a function may fire its ticks, and each tick is claimed in the
 * database by a compare-and-set on the schedule's `nextRunAt`, in the same transaction as the
 * tick's jobs (`storage.fireSchedule`), so exactly one node makes each tick's job. A node that
 * loses the race finds the claim gone and writes nothing. A crash before the commit leaves the
 * tick unclaimed for the next node; after it, both the claim and the job are stored. The job's
 * idempotency key (schedule id and tick time) makes even a tick fired twice one job.
 *
 * Times come from the engine's clock, which is the database's, so nodes with skewed clocks
 * agree on when a tick is due. A timer is set for the earliest known next run; the periodic
 * resync only discovers other processes' changes.
 */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #timer: DueTimer;
  readonly #parsed = new Map<string, ParsedSchedule>();
  /** Schedules whose stored cron this version cannot read, by id and `updatedAt`: not retried until edited. */
  readonly #unreadable = new Map<string, number>();
  #resync: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#timer = new DueTimer(deps.clock, () => this.wake());
  }

  start(): void {
    this.#resync = setInterval(() => this.wake(), SCHEDULE_RESYNC_MS).unref();
    this.wake();
  }

  /** Looks for due schedules now (one look at a time; a wake during a look runs another). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#look()
      .catch((error: unknown) => {
        this.#deps.onError(
          new ReseolioError(
            'RESEOLIO_BACKGROUND_ERROR',
            'firing schedules failed; retrying on the next look',
            { cause: error },
          ),
        );
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Stops firing; resolves once a look in progress has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer.stop();
    clearInterval(this.#resync);
    await this.#running;
  }

  async #look(): Promise<void> {
    const { storage, clock } = this.#deps;
    const functions = this.#deps.functions();
    const names = [...functions.keys()];
    if (names.length === 0) return;
    const lookedAt = clock.now();
    for (;;) {
      const due = await storage.listDueSchedules({ names, now: clock.now(), limit: DUE_BATCH });
      const fireable = due.filter((s) => this.#unreadable.get(s.id) !== s.updatedAt);
      for (const schedule of fireable) {
        if (this.#stopped) return;
        const fn = functions.get(schedule.name);
        if (fn) await this.#fire(schedule, fn);
      }
      // A full batch may hide more due schedules; a batch of unreadable ones would loop.
      if (due.length < DUE_BATCH || fireable.length === 0 || this.#stopped) break;
    }
    const next = await storage.nextScheduleRunAt(names);
    if (next === undefined) return;
    // Due already when this look began, yet still not fired: unreadable here, or claimed by a
    // node that has not committed yet. Look again in a second rather than spin.
    this.#timer.wakeAt(next <= lookedAt ? clock.now() + UNFIRED_RETRY_MS : next);
  }

  /** Claims the due ticks of one schedule and makes their jobs, or loses the race quietly. */
  async #fire(schedule: ScheduleRecord, fn: ScheduledFunction): Promise<void> {
    const parsed = this.#parse(schedule);
    if (!parsed || schedule.nextRunAt === null) return;
    const { storage, clock } = this.#deps;
    const now = clock.now();
    const due = dueTicks({
      schedule: parsed,
      nextRunAt: schedule.nextRunAt,
      now,
      catchUp: schedule.catchUp,
      catchUpWindowMs: schedule.catchUpWindowMs,
      limit: MAX_CATCH_UP_RUNS,
    });
    let ticks = due.ticks;
    if (schedule.overlap === 'skip' && ticks.length > 0) {
      // Runs of one tick would overlap each other too: at most the newest one.
      ticks = (await this.#lastRunUnfinished(schedule)) ? [] : ticks.slice(-1);
    }
    const jobs = ticks.map((tick) => scheduleRun(schedule, fn, { tick, now }));
    const claim = { expectedNextRunAt: schedule.nextRunAt, nextRunAt: due.nextRunAt ?? null };
    await this.#deps.producer.send(
      jobs,
      () =>
        storage.fireSchedule({
          id: schedule.id,
          claim,
          jobs,
          now,
        }),
      (fired) => fired?.jobs ?? [],
    );
    // Lost races (undefined) need nothing: the winner made the jobs, and `ready` wakes the
    // claim loops of every node that runs them.
  }

  async #lastRunUnfinished(schedule: ScheduleRecord): Promise<boolean> {
    if (schedule.lastJobId === null) return false;
    const last = await this.#deps.storage.getJob(schedule.lastJobId);
    return last !== undefined && !FINAL.has(last.status);
  }

  #parse(schedule: ScheduleRecord): ParsedSchedule | undefined {
    const key = `${schedule.cron}\u0000${schedule.timezone}`;
    let parsed = this.#parsed.get(key);
    if (parsed) return parsed;
    try {
      parsed = parseSchedule(schedule.cron, schedule.timezone);
    } catch (error) {
      // Written by another version, or a zone this Node.js lacks: say so once per edit.
      this.#unreadable.set(schedule.id, schedule.updatedAt);
      this.#deps.logger.error(
        `schedule "${schedule.id}" cannot be fired by this process: ${(error as Error).message}`,
      );
      return undefined;
    }
    this.#parsed.set(key, parsed);
    return parsed;
  }
}

/**
 * The job of one run of `schedule`. A tick's run is due at the tick (so `runAt` tells which
 * tick it is, and missed ticks run oldest first) and keyed by schedule id and tick time, so a
 * tick fired twice is one job; a trigger's is due now with no key (each is a run of its own).
 */
export function scheduleRun(
  schedule: ScheduleRecord,
  fn: ScheduledFunction,
  run: { tick: number; now: number } | { triggeredAt: number },
): NewJob {
  const now = 'tick' in run ? run.now : run.triggeredAt;
  return {
    id: uuidv7(now),
    name: schedule.name,
    args: schedule.args,
    policy: fn.policyText(),
    maxAttempts: fn.maxAttempts(),
    traceContext: null,
    idempotencyKey:
      'tick' in run ? `schedule:${schedule.id}:${new Date(run.tick).toISOString()}` : null,
    parentId: null,
    scheduleId: schedule.id,
    ...fn.flowFields(schedule.args),
    createdAt: now,
    runAt: 'tick' in run ? run.tick : now,
  };
}
