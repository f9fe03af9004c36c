import { randomInt } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { ORIGIN } from './origin.ts';

/**
 * How long a registration holds, in milliseconds. The margin over {@link RENEW_MS} covers a
 * renewal that waits for the write lock, or an event loop that is busy for a while.
 */
const REGISTRATION_MS = 30_000;
/** How often a running feed renews its registration, in milliseconds: a tiny write. */
export const RENEW_MS = 10_000;

/** @internal What a registration write left. */
export interface Registration {
  /** Epoch ms until which writers see the feed registered. */
  until: number;
  /** The registration before had expired: writers may have skipped rows in between. */
  lapsed: boolean;
  /** A listener of another origin is registered too. */
  others: boolean;
}

/**
 * One feed's row in `reseolio_listeners` (see schema.ts): while it holds, writers of other
 * origins add outbox rows. Times are the machine's clock (`Date.now()`), which every process
 * on one SQLite file shares; expired rows of processes that died without deleting theirs are
 * dropped by the next registration of anyone.
 * @internal
 */
export class ListenerRegistration {
  /** Random per feed: two adapters of one process register, and leave, separately. */
  readonly #id = randomInt(2 ** 48 - 1);
  readonly #upsert: Statement<object>;
  readonly #dropExpired: Statement<[number]>;
  readonly #remove: Statement<[number]>;
  readonly #alone: () => Registration;
  readonly #othersListening: () => boolean;
  /** Until when the last committed registration holds; 0 before the first. */
  #until = 0;

  constructor(db: Database) {
    this.#upsert = db.prepare(
      `INSERT INTO reseolio_listeners (id, origin, expires_at) VALUES (@id, @origin, @expiresAt)
       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`,
    );
    this.#dropExpired = db.prepare('DELETE FROM reseolio_listeners WHERE expires_at <= ?');
    this.#remove = db.prepare('DELETE FROM reseolio_listeners WHERE id = ?');
    this.#othersListening = prepareOthersListening(db);
    const transaction = db.transaction(() => this.write());
    this.#alone = () => transaction.immediate();
  }

  /** A registration was committed. */
  get registered(): boolean {
    return this.#until > 0;
  }

  /** Registers (or renews) inside the caller's write transaction; {@link committed} after. */
  write(): Registration {
    const now = Date.now();
    this.#dropExpired.run(now);
    this.#upsert.run({ id: this.#id, origin: ORIGIN, expiresAt: now + REGISTRATION_MS });
    return {
      until: now + REGISTRATION_MS,
      lapsed: this.registered && now >= this.#until,
      others: this.#othersListening(),
    };
  }

  /** {@link write} in a write transaction of its own; {@link committed} after. */
  writeAlone(): Registration {
    return this.#alone();
  }

  committed(registration: Registration): void {
    this.#until = registration.until;
  }

  /** Deletes the row, in a write transaction of the caller's or of its own. */
  remove(): void {
    this.#remove.run(this.#id);
  }
}

/**
 * @internal Whether a listener of another origin is registered and unexpired: writers then add
 * outbox rows, and a feed watches the file.
 */
export function prepareOthersListening(db: Database): () => boolean {
  const listened = db
    .prepare<[number, number], number>(
      'SELECT 1 FROM reseolio_listeners WHERE origin <> ? AND expires_at > ? LIMIT 1',
    )
    .pluck();
  return () => listened.get(ORIGIN, Date.now()) !== undefined;
}
