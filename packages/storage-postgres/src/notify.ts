import type { ClientConfig } from 'pg';
import pg from 'pg';
import type { JobOutcome, JobStatus, StorageEvent } from 'reseolio/storage';
import { quoteIdent } from './schema-names.ts';

/**
 * Wake-ups over LISTEN/NOTIFY.
 *
 * Sending: every write that makes a job claimable or final calls `pg_notify` in the same
 * statement (see {@link announceSql}). PostgreSQL queues a notification with the transaction
 * and delivers it only on commit, so a rolled-back write is never announced, and a job
 * enqueued inside a caller's transaction is announced exactly when it becomes visible.
 *
 * Receiving: one dedicated `pg.Client`, outside the pool (a pooled connection would be handed
 * to other work and lose its LISTEN), LISTENs on the schema's channel. Notifications reach
 * every session listening, this process's included, so in-process and cross-process listeners
 * share one path.
 */

/**
 * PostgreSQL refuses a NOTIFY payload of 8000 bytes or more (and the refusal would abort the
 * write it is part of), so payloads that carry an outcome fall back to the short form above
 * this size.
 */
export const MAX_PAYLOAD_BYTES = 7999;

/**
 * A SQL expression announcing the row aliased `alias` (it needs `id`, `name`, `status`,
 * `run_at`): `pending` and `waiting` rows are `ready` at `run_at`; final rows are `finished`. The payload is
 * the `StorageEvent` JSON itself. `channelParam` is the placeholder bound to the channel.
 *
 * With `outcome`, a finished row's `result` and `error` (the alias needs them too) travel in
 * the payload when it fits, so a process awaiting the job resolves without reading it.
 */
export function announceSql(
  channelParam: string,
  alias: string,
  { outcome = false }: { outcome?: boolean } = {},
): string {
  const ready = `json_build_object('type', 'ready', 'name', ${alias}.name, 'runAt', ${alias}.run_at)::text`;
  const finished = `json_build_object('type', 'finished', 'jobId', ${alias}.id, 'status', ${alias}.status)::text`;
  const final = outcome
    ? `(SELECT CASE WHEN octet_length(p.full) <= ${MAX_PAYLOAD_BYTES} THEN p.full ELSE ${finished} END ` +
      `FROM (SELECT json_build_object('type', 'finished', 'jobId', ${alias}.id, 'status', ${alias}.status, ` +
      `'outcome', json_build_object('result', ${alias}.result, 'error', ${alias}.error))::text AS full) p)`
    : finished;
  return `pg_notify(${channelParam}, CASE WHEN ${alias}.status IN ('pending', 'waiting') THEN ${ready} ELSE ${final} END)`;
}

/**
 * The event {@link announceSql} sends for a row, for delivering in-process without LISTEN
 * (in-process there is no size limit: a finished row's `outcome` always goes along).
 */
export function eventFor(
  job: { id: string; name: string; status: JobStatus; runAt: number },
  outcome?: JobOutcome,
): StorageEvent {
  if (job.status === 'pending' || job.status === 'waiting') {
    return { type: 'ready', name: job.name, runAt: job.runAt };
  }
  return outcome
    ? { type: 'finished', jobId: job.id, status: job.status, outcome }
    : { type: 'finished', jobId: job.id, status: job.status };
}

/**
 * One notification for up to {@link FINISHED_PER_NOTIFY} jobs that reached the same final
 * status in one statement: `{"type":"finished","jobIds":[…],"status":…,"outcomes":[…]}`. A
 * batched ack sends a handful of these instead of one per job, which is most of what NOTIFY
 * costs the server (queue writes, signalling and delivery to every listener) at high
 * throughput. `outcomes` (each job's `result` and `error`, in `jobIds` order) is left out of a
 * notification it would push past {@link MAX_PAYLOAD_BYTES}; the ids alone always fit (a UUID
 * is 36 characters). `alias` needs `id`, `status`, `result`, `error` and an `rn` column
 * numbering its rows from 1.
 */
export function announceFinishedBatchSql(channelParam: string, alias: string): string {
  const ids = `'type', 'finished', 'jobIds', json_agg(${alias}.id ORDER BY ${alias}.rn), 'status', ${alias}.status`;
  return (
    `SELECT pg_notify(${channelParam}, CASE WHEN octet_length(c.full) <= ${MAX_PAYLOAD_BYTES} ` +
    `THEN c.full ELSE c.short END) FROM (` +
    `SELECT json_build_object(${ids}, 'outcomes', json_agg(json_build_object('result', ` +
    `${alias}.result, 'error', ${alias}.error) ORDER BY ${alias}.rn))::text AS full, ` +
    `json_build_object(${ids})::text AS short ` +
    `FROM ${alias} GROUP BY ${alias}.status, (${alias}.rn - 1) / ${FINISHED_PER_NOTIFY}) c`
  );
}

export const FINISHED_PER_NOTIFY = 100;

/** Parses a notification payload into events; none for anything we did not send. */
export function parseEvents(payload: string | undefined): StorageEvent[] {
  if (payload === undefined) return [];
  try {
    const event = JSON.parse(payload) as Record<string, unknown>;
    if (event.type === 'ready' && typeof event.name === 'string') {
      return [{ type: 'ready', name: event.name, runAt: Number(event.runAt) }];
    }
    if (event.type === 'progress' && typeof event.jobId === 'string') {
      return [progressEvent(event)];
    }
    const status = event.status as JobStatus;
    if (event.type === 'finished' && typeof event.jobId === 'string') {
      return [finishedEvent(event.jobId, status, event.outcome)];
    }
    if (event.type === 'finished' && Array.isArray(event.jobIds)) {
      const outcomes = Array.isArray(event.outcomes) ? event.outcomes : [];
      return event.jobIds.flatMap((jobId, i) =>
        typeof jobId === 'string' ? [finishedEvent(jobId, status, outcomes[i])] : [],
      );
    }
  } catch {
    // Someone else's NOTIFY on our channel; ignore it.
  }
  return [];
}

/** A `progress` event; `progress` is absent when it did not fit the notification. */
function progressEvent(event: Record<string, unknown>): StorageEvent {
  const { jobId, name, progress } = event as { jobId: string; name: unknown; progress: unknown };
  return typeof progress === 'string'
    ? { type: 'progress', jobId, name: String(name), progress }
    : { type: 'progress', jobId, name: String(name) };
}

function finishedEvent(jobId: string, status: JobStatus, outcome: unknown): StorageEvent {
  const event: StorageEvent = { type: 'finished', jobId, status };
  if (isOutcome(outcome)) event.outcome = { result: outcome.result, error: outcome.error };
  return event;
}

function isOutcome(value: unknown): value is JobOutcome {
  if (value === null || typeof value !== 'object') return false;
  const { result, error } = value as Record<string, unknown>;
  return (
    (result === null || typeof result === 'string') && (error === null || typeof error === 'string')
  );
}

const FIRST_RECONNECT_MS = 100;
const MAX_RECONNECT_MS = 5_000;

export interface NotifierOptions {
  /** How to open the dedicated connection (the pool's own config). */
  clientConfig: ClientConfig;
  channel: string;
  /** Called for every parsed notification, and with `resync` after each reconnect. */
  onEvent: (event: StorageEvent) => void;
}

/** Owns the LISTEN connection: opens it, re-opens it when it drops, closes it. */
export class Notifier {
  readonly #options: NotifierOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = FIRST_RECONNECT_MS;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  /** Connects and LISTENs; rejects if the first connection fails (nothing is retried then). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#options.clientConfig, keepAlive: true });
    // A dropped connection emits 'error' (then 'end'). Without a listener the error would
    // crash the process; both funnel into one reconnect.
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (message) => {
      if (message.channel !== this.#options.channel) return;
      for (const event of parseEvents(message.payload)) this.#options.onEvent(event);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.#options.channel)}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    // Only now does a loss of this client count (#lost ignores others): a failure while
    // connecting is reported by the rejection above instead, so it is handled once.
    this.#client = client;
  }

  #lost(client: pg.Client): void {
    // Only the current connection's first loss counts: 'error' and 'end' both fire, and a
    // stale client may report after a newer one replaced it.
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, MAX_RECONNECT_MS);
    this.#reconnectTimer = setTimeout(() => {
      this.#connect().then(
        () => {
          if (this.#closed) return;
          this.#reconnectDelay = FIRST_RECONNECT_MS;
          // Anything announced while we were not listening is gone: tell listeners to look
          // at the database once instead of waiting for wake-ups that will never come.
          this.#options.onEvent({ type: 'resync' });
        },
        () => {
          if (!this.#closed) this.#scheduleReconnect();
        },
      );
    }, delay);
    // A reconnect loop alone must not keep the process alive.
    this.#reconnectTimer.unref();
  }
}
