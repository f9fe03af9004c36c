import type { ClientConfig } from 'pg';
import pg from 'pg';
import type { JobStatus, StorageEvent } from 'reseolio';
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
 * A SQL expression announcing the row aliased `alias` (it needs `id`, `name`, `status`,
 * `run_at`): `pending` rows are `ready` at `run_at`; final rows are `finished`. The payload is
 * the `StorageEvent` JSON itself. `channelParam` is the placeholder bound to the channel.
 */
export function announceSql(channelParam: string, alias: string): string {
  return (
    `pg_notify(${channelParam}, CASE WHEN ${alias}.status = 'pending' ` +
    `THEN json_build_object('type', 'ready', 'name', ${alias}.name, 'runAt', ${alias}.run_at)::text ` +
    `ELSE json_build_object('type', 'finished', 'jobId', ${alias}.id, 'status', ${alias}.status)::text END)`
  );
}

/** The event {@link announceSql} sends for a row, for delivering in-process without LISTEN. */
export function eventFor(job: {
  id: string;
  name: string;
  status: JobStatus;
  runAt: number;
}): StorageEvent {
  return job.status === 'pending'
    ? { type: 'ready', name: job.name, runAt: job.runAt }
    : { type: 'finished', jobId: job.id, status: job.status };
}

/**
 * One notification for up to {@link FINISHED_PER_NOTIFY} jobs that reached the same final
 * status in one statement: `{"type":"finished","jobIds":[…],"status":…}`. A batched ack sends
 * a handful of these instead of one per job, which is most of what NOTIFY costs the server
 * (queue writes, signalling and delivery to every listener) at high throughput. The limit
 * keeps the payload far below PostgreSQL's 8000-byte cap (a UUID is 36 characters).
 * `alias` needs `id`, `status` and an `rn` column numbering its rows from 1.
 */
export function announceFinishedBatchSql(channelParam: string, alias: string): string {
  return (
    `SELECT pg_notify(${channelParam}, json_build_object('type', 'finished', ` +
    `'jobIds', json_agg(${alias}.id), 'status', ${alias}.status)::text) ` +
    `FROM ${alias} GROUP BY ${alias}.status, (${alias}.rn - 1) / ${FINISHED_PER_NOTIFY}`
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
    if (event.type === 'finished' && typeof event.jobId === 'string') {
      return [{ type: 'finished', jobId: event.jobId, status: event.status as JobStatus }];
    }
    if (event.type === 'finished' && Array.isArray(event.jobIds)) {
      const status = event.status as JobStatus;
      return event.jobIds
        .filter((id): id is string => typeof id === 'string')
        .map((jobId) => ({ type: 'finished', jobId, status }));
    }
  } catch {
    // Someone else's NOTIFY on our channel; ignore it.
  }
  return [];
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
