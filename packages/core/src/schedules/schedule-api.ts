import type { Clock } from '../clock.ts';
import { PayloadTooLargeError, ReseolioValidationError, ScheduleNotFoundError } from '../errors.ts';
import { validateFunctionName } from '../options/names.ts';
import type { ScheduleRecord } from '../storage/schedule-records.ts';
import type { StorageAdapter } from '../storage/storage.ts';
import type { Producer } from '../telemetry/producer.ts';
import { toScheduleInfo } from './schedule-info.ts';
import {
  resolveScheduleFilter,
  resolveScheduleOptions,
  resolveSchedulePatch,
  validateScheduleId,
} from './schedule-options.ts';
import { type ScheduledFunction, scheduleRun } from './scheduler.ts';
import type { ScheduleInfo } from './types.ts';

export interface ScheduleApiDeps {
  storage(): Promise<StorageAdapter>;
  clock: Clock;
  maxPayloadBytes: number;
  /**
   * The policy a run of `name` stores: the registration's when this process registered it,
   * else the engine's defaults (as a job enqueued by name elsewhere would get).
   */
  functionFor(name: string): ScheduledFunction;
  /** Stores a triggered run (counted and traced like any enqueue). */
  producer: Producer;
  /** A schedule was declared or edited here: the local scheduler reads its next run again. */
  changed(): void;
}

/**
 * The schedule methods of `Reseolio`: declare, read, edit, trigger. Arguments are checked
 * before storage is touched, so bad input stores nothing. Firing ticks is the `Scheduler`'s.
 */
export class ScheduleApi {
  readonly #deps: ScheduleApiDeps;

  constructor(deps: ScheduleApiDeps) {
    this.#deps = deps;
  }

  async schedule(id: unknown, fn: unknown, options: unknown): Promise<ScheduleInfo> {
    const scheduleId = validateScheduleId(id);
    const name = functionName(fn);
    const { definition, parsed } = resolveScheduleOptions(options);
    this.#checkSize(definition.args, scheduleId);
    const storage = await this.#deps.storage();
    const now = this.#deps.clock.now();
    const { schedule } = await storage.upsertSchedule({
      id: scheduleId,
      name,
      ...definition,
      nextRunAt: parsed.next(now) ?? null,
      now,
    });
    this.#deps.changed();
    return toScheduleInfo(schedule);
  }

  async get(id: unknown): Promise<ScheduleInfo | null> {
    const record = await (await this.#deps.storage()).getSchedule(validateScheduleId(id));
    return record ? toScheduleInfo(record) : null;
  }

  async list(filter: unknown): Promise<ScheduleInfo[]> {
    const resolved = resolveScheduleFilter(filter);
    return (await (await this.#deps.storage()).listSchedules(resolved)).map(toScheduleInfo);
  }

  async update(id: unknown, patch: unknown): Promise<ScheduleInfo> {
    const scheduleId = validateScheduleId(id);
    const storage = await this.#deps.storage();
    const current = await this.#mustGet(storage, scheduleId);
    const resolved = resolveSchedulePatch(patch, current);
    if (resolved.patch.args !== undefined) this.#checkSize(resolved.patch.args, scheduleId);
    const now = this.#deps.clock.now();
    // A new cron or zone moves the next run to its first tick from now; other edits keep it.
    const moved =
      resolved.parsed !== undefined &&
      (resolved.parsed.cron !== current.cron || resolved.parsed.timezone !== current.timezone);
    const updated = await storage.updateSchedule({
      id: scheduleId,
      patch: moved
        ? { ...resolved.patch, nextRunAt: resolved.parsed!.next(now) ?? null }
        : resolved.patch,
      now,
    });
    if (!updated) throw new ScheduleNotFoundError(scheduleId);
    this.#deps.changed();
    return toScheduleInfo(updated);
  }

  async pause(id: unknown): Promise<ScheduleInfo> {
    const scheduleId = validateScheduleId(id);
    const storage = await this.#deps.storage();
    const paused = await storage.updateSchedule({
      id: scheduleId,
      patch: { status: 'paused' },
      now: this.#deps.clock.now(),
    });
    if (!paused) throw new ScheduleNotFoundError(scheduleId);
    return toScheduleInfo(paused);
  }

  /**
   * Active again from the next tick after now: ticks that fell while it was paused are not
   * caught up. Resuming an active schedule changes nothing (its pending catch-up stays).
   */
  async resume(id: unknown): Promise<ScheduleInfo> {
    const scheduleId = validateScheduleId(id);
    const storage = await this.#deps.storage();
    const current = await this.#mustGet(storage, scheduleId);
    if (current.status === 'active') return toScheduleInfo(current);
    const now = this.#deps.clock.now();
    const { parsed } = resolveSchedulePatch({ cron: current.cron }, current);
    const resumed = await storage.updateSchedule({
      id: scheduleId,
      patch: { status: 'active', nextRunAt: parsed!.next(now) ?? null },
      ifStatus: 'paused',
      now,
    });
    // Resumed by someone else in between: theirs stands.
    const result = resumed ?? (await this.#mustGet(storage, scheduleId));
    this.#deps.changed();
    return toScheduleInfo(result);
  }

  async delete(id: unknown): Promise<boolean> {
    return (await this.#deps.storage()).deleteSchedule(validateScheduleId(id));
  }

  /**
   * One run now, outside the cadence: works on a paused schedule too, and does not move the
   * next tick. Returns the new job's id.
   */
  async trigger(id: unknown): Promise<string> {
    const scheduleId = validateScheduleId(id);
    const storage = await this.#deps.storage();
    const schedule = await this.#mustGet(storage, scheduleId);
    const now = this.#deps.clock.now();
    const job = scheduleRun(schedule, this.#deps.functionFor(schedule.name), { triggeredAt: now });
    const fired = await this.#deps.producer.send(
      [job],
      () => storage.fireSchedule({ id: scheduleId, jobs: [job], now }),
      (result) => result?.jobs ?? [],
    );
    if (!fired) throw new ScheduleNotFoundError(scheduleId); // deleted in between
    return fired.jobs[0]!.job.id;
  }

  async #mustGet(storage: StorageAdapter, id: string): Promise<ScheduleRecord> {
    const record = await storage.getSchedule(id);
    if (!record) throw new ScheduleNotFoundError(id);
    return record;
  }

  #checkSize(args: string, id: string): void {
    if (args.length * 3 <= this.#deps.maxPayloadBytes) return;
    const size = Buffer.byteLength(args);
    if (size > this.#deps.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        `The args of schedule ${id}`,
        size,
        this.#deps.maxPayloadBytes,
      );
    }
  }
}

/** `schedule(id, fnOrName)`: a durable function (its `functionName`) or a name. */
function functionName(fn: unknown): string {
  const durableName =
    typeof fn === 'function' ? (fn as { functionName?: unknown }).functionName : undefined;
  if (typeof durableName === 'string') return durableName;
  if (typeof fn === 'string') return validateFunctionName(fn);
  throw new ReseolioValidationError(
    'schedule(id, fn, options) needs a durable function (what reseolio.durable() returned) ' +
      'or its registered name as fn.',
    'RESEOLIO_INVALID_SCHEDULE',
  );
}
