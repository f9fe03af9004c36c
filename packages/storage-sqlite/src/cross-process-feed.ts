import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Database, Statement } from 'better-sqlite3';
import type { StorageEvent } from 'reseolio/storage';
import { ListenerRegistration, prepareOthersListening, RENEW_MS } from './listener-registration.ts';
import { ORIGIN } from './origin.ts';
import type { Outbox } from './outbox.ts';

/**
 * After a change notification, when the feed looks again, in milliseconds after the look
 * before. The notification comes when a writer writes its pages to the `-wal` file, before
 * its commit becomes visible to readers (it then updates the WAL index in shared memory, which
 * no notification reports), and on a busy machine waking this process can pause the writer
 * right there for a few scheduler slices: a look that came too early finds nothing new. Each
 * look is one `PRAGMA data_version`, so looking often for a moment costs next to nothing; the
 * last steps hand over to the fallback interval.
 */
const SETTLE_MS = [1, 2, 4, 8, 16, 32, 64, 128] as const;
/** Outbox rows read per read transaction. */
const PAGE_ROWS = 500;

/** @internal */
export interface FeedOptions {
  db: Database;
  /** The database file's real path: its folder is watched. */
  path: string;
  /** Runs a read attempt without lock waits, retrying after `SQLITE_BUSY` (lock-queue.ts). */
  read<T>(attempt: () => T): T | Promise<T>;
  /** Runs a write transaction through the adapter's lock queue. */
  write<T>(attempt: () => T): T | Promise<T>;
  /** Hands the events of other processes, in commit order, to this adapter's listeners. */
  deliver(events: readonly StorageEvent[]): void;
  /** How often to look without a notification, in milliseconds. */
  fallbackMs: number;
  /** This connection's outbox: its writes tell when another process starts listening. */
  outbox: Outbox;
}

interface Page {
  events: StorageEvent[];
  /** A listener of another process is registered. */
  others: boolean;
  cursor: number;
  more: boolean;
}

/**
 * The events other processes commit to this database file, delivered to this adapter's
 * listeners within milliseconds. The feed registers in `reseolio_listeners`, so writers of
 * other processes add one outbox row per announcing transaction (outbox.ts); it keeps the
 * `seq` of the last row it has seen and reads the rows after it, skipping those of its own
 * origin. It renews its registration while it runs, deletes it when closed, and resyncs when a
 * renewal came after the registration had expired (rows may have been skipped meanwhile).
 *
 * When to look: SQLite has no notification, so the feed watches the database's folder
 * (`fs.watch`: inotify, FSEvents, ReadDirectoryChangesW) for writes to the `-wal` file (a
 * commit in WAL mode writes there) or the file itself. The folder, not the files: the `-wal`
 * file is deleted when the last connection closes and made anew by the next, and a watch on a
 * deleted file sees nothing more. A notification costs one `PRAGMA data_version` (no read of
 * the file), which changes only when another connection committed, so this process's own
 * commits, which also touch the `-wal` file, cost nothing more.
 *
 * It watches only while a listener of another process is registered: a process alone on its
 * file would otherwise handle a notification for each of its own commits. It starts watching
 * when it registers among others, when one of its writes finds another listener (outbox.ts),
 * or when a look finds other processes' commits; until then a process that appeared meanwhile
 * is found by the fallback look.
 *
 * A notification may never come (network filesystems, bind mounts from another machine,
 * inotify limits) or come early (see {@link SETTLE_MS}), so the feed also looks every
 * `fallbackMs`: a missed notification delays a wake-up, it never loses it. Rows are kept
 * for readers that fall behind (`KEEP_ROWS`); one that finds rows after its cursor already
 * pruned, or a database that went back in time (replaced by a copy), delivers `resync`, so
 * listeners re-read what they wait for.
 *
 * Timers and the watcher never keep the process alive.
 * @internal
 */
export class CrossProcessFeed {
  readonly #options: FeedOptions;
  readonly #dataVersion: Statement<[], number>;
  readonly #bounds: Statement<[], { first: number | null; last: number | null }>;
  readonly #rows: Statement<object, { seq: number; events: string }>;
  readonly #readPage: () => Page;
  readonly #registration: ListenerRegistration;
  readonly #othersListening: () => boolean;
  /** fs.watch failed once: polling only, without trying again on every write. */
  #unwatchable = false;
  /** The last `seq` delivered (or skipped); rows after it are new. */
  #cursor = 0;
  /** `PRAGMA data_version` when the rows were last read; undefined: read at the next look. */
  #seenVersion: number | undefined;
  #watcher: FSWatcher | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #settle: NodeJS.Timeout | undefined;
  /** How many of the {@link SETTLE_MS} looks after the last notification have been made. */
  #settled = 0;
  #looking = false;
  #lookAgain = false;
  #started = false;
  #closed = false;
  readonly #warned = new Set<'watch' | 'read' | 'write'>();
  /** Resolves once the cursor is set: events committed after that are delivered. */
  readonly started: Promise<void>;

  constructor(options: FeedOptions) {
    this.#options = options;
    const { db } = options;
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.#bounds = db.prepare('SELECT min(seq) AS first, max(seq) AS last FROM reseolio_events');
    // `+ 0`: a bare parameter as LIMIT is re-prepared at every bind (see LIMIT in statements.ts).
    this.#rows = db.prepare(
      `SELECT seq, events FROM reseolio_events
       WHERE seq > @cursor AND seq <= @last AND origin <> @origin ORDER BY seq LIMIT @limit + 0`,
    );
    // One read transaction: the bounds and the rows come from one snapshot, so a prune
    // between them cannot hide a gap.
    this.#readPage = db.transaction(() => this.#page());
    this.#registration = new ListenerRegistration(db);
    this.#othersListening = prepareOthersListening(db);
    options.outbox.onOthersListening = () => {
      if (this.#watcher !== undefined || !this.#started || this.#closed) return;
      this.#watch();
      // Commits of the others before the watch began.
      setImmediate(() => this.#look());
    };
    this.started = this.#start();
  }

  /** Stops watching and looking, and unregisters; nothing is delivered after this. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.outbox.onOthersListening = undefined;
    this.#unwatch();
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#registration.registered) void this.#unregister();
  }

  async #start(): Promise<void> {
    // Registered first, cursor second, in one transaction: a writer that commits after it
    // sees the registration and writes rows after the cursor.
    const begin = this.#options.db.transaction(() => ({
      registration: this.#registration.write(),
      version: this.#dataVersion.get(),
      last: this.#bounds.get()?.last,
      others: this.#othersListening(),
    }));
    let start: ReturnType<typeof begin>;
    try {
      start = await this.#options.write(() => begin.immediate());
    } catch (error) {
      this.close();
      throw error;
    }
    this.#registration.committed(start.registration);
    this.#seenVersion = start.version;
    this.#cursor = start.last ?? 0;
    this.#started = true;
    if (this.#closed) {
      void this.#unregister();
      return;
    }
    // A commit between the cursor and the watch is found by the look below.
    if (start.others) this.#watch();
    const fallback = setInterval(() => this.#look(), this.#options.fallbackMs);
    const renew = setInterval(() => void this.#renew(), RENEW_MS);
    for (const timer of [fallback, renew]) {
      timer.unref();
      this.#timers.push(timer);
    }
    this.#look();
  }

  async #renew(): Promise<void> {
    try {
      const registration = await this.#options.write(() => this.#registration.writeAlone());
      this.#registration.committed(registration);
      this.#watchWhile(registration.others);
      if (registration.lapsed && !this.#closed) {
        // Writers may have skipped rows while nobody saw this feed registered.
        this.#options.deliver([{ type: 'resync' }]);
      }
    } catch (error) {
      // The registration holds well past the next renewal, which tries again.
      if (!this.#closed) this.#warn('write', `renewing its registration failed (${String(error)})`);
    }
  }

  /** Best effort: a row left behind only makes writers add outbox rows until it expires. */
  async #unregister(): Promise<void> {
    try {
      await this.#options.write(() => this.#registration.remove());
    } catch {
      // Expires on its own.
    }
  }

  /** Watches while others listen; stops when the last one left (or expired). */
  #watchWhile(others: boolean): void {
    if (this.#closed) return;
    if (others && this.#watcher === undefined) this.#watch();
    else if (!others) this.#unwatch();
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#settle);
    this.#settle = undefined;
  }

  #watch(): void {
    if (this.#unwatchable) return;
    const file = basename(this.#options.path);
    const names = new Set([file, `${file}-wal`]);
    try {
      const watcher = watch(dirname(this.#options.path), { persistent: false }, (_, name) => {
        // Some platforms leave the name out: then any change may be ours.
        if (name === null || names.has(name.toString())) this.#notified();
      });
      watcher.on('error', (error) => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
        this.#unwatchable = true;
        this.#warn('watch', `watching its folder failed (${String(error)}); ${this.#polling()}`);
      });
      this.#watcher = watcher;
    } catch (error) {
      this.#unwatchable = true;
      this.#warn('watch', `cannot watch its folder (${String(error)}); ${this.#polling()}`);
    }
  }

  #notified(): void {
    this.#look();
    this.#settled = 0;
    if (this.#settle === undefined) this.#settleLater();
  }

  #settleLater(): void {
    const delay = SETTLE_MS[this.#settled];
    if (delay === undefined || this.#closed) return;
    this.#settle = setTimeout(() => {
      this.#settle = undefined;
      this.#settled += 1;
      this.#look();
      this.#settleLater();
    }, delay);
    this.#settle.unref();
  }

  /** Reads and delivers what other processes committed since the last look, if anything. */
  #look(): void {
    if (!this.#started || this.#closed) return;
    if (this.#looking) {
      this.#lookAgain = true;
      return;
    }
    // Most notifications are of this process's own commits: one synchronous read tells.
    try {
      const version = this.#options.read(() => this.#dataVersion.get());
      if (version instanceof Promise) version.catch(() => {});
      else if (version === this.#seenVersion) return;
    } catch {
      // Read again below, where a failure is reported.
    }
    this.#looking = true;
    void this.#readNew().finally(() => {
      this.#looking = false;
    });
  }

  async #readNew(): Promise<void> {
    try {
      do {
        this.#lookAgain = false;
        const version = await this.#options.read(() => this.#dataVersion.get()!);
        if (version === this.#seenVersion) continue;
        this.#seenVersion = version;
        for (let more = true; more && !this.#closed; ) {
          const page = await this.#options.read(this.#readPage);
          if (this.#closed) return;
          this.#cursor = page.cursor;
          more = page.more;
          this.#watchWhile(page.others);
          this.#options.deliver(page.events);
        }
      } while (this.#lookAgain && !this.#closed);
    } catch (error) {
      // The cursor stayed where it was: the next look reads the same rows again.
      this.#seenVersion = undefined;
      if (!this.#closed) {
        this.#warn(
          'read',
          `reading the events of other processes failed (${String(error)}); trying again at the next change or in ${this.#options.fallbackMs} ms`,
        );
      }
    }
  }

  /** The next page after the cursor, inside a read transaction; changes nothing. */
  #page(): Page {
    const { first, last } = this.#bounds.get() ?? { first: null, last: null };
    const events: StorageEvent[] = [];
    if (last === null || first === null) {
      // Empty: a new database, or one replaced under us after we had read rows of it.
      if (this.#cursor > 0) events.push({ type: 'resync' });
      return { events, cursor: 0, more: false, others: this.#othersListening() };
    }
    let cursor = this.#cursor;
    if (last < cursor || first > cursor + 1) {
      // The file went back in time, or rows after the cursor were pruned unread.
      events.push({ type: 'resync' });
      cursor = Math.min(cursor, last);
    }
    const rows = this.#rows.all({ cursor, last, origin: ORIGIN, limit: PAGE_ROWS });
    for (const row of rows) events.push(...parseEvents(row.events));
    const more = rows.length === PAGE_ROWS;
    const cursorAfter = more ? rows[rows.length - 1]!.seq : last;
    return { events, cursor: cursorAfter, more, others: this.#othersListening() };
  }

  #polling(): string {
    return `events of other processes now arrive by polling every ${this.#options.fallbackMs} ms`;
  }

  /** One process warning per kind of trouble, so a failing file does not flood the log. */
  #warn(kind: 'watch' | 'read' | 'write', message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    process.emitWarning(`Reseolio SQLite storage ${this.#options.path}: ${message}.`, {
      code: 'RESEOLIO_SQLITE_CROSS_PROCESS',
    });
  }
}

/** A row's events; a row that cannot be read (written by a newer version?) asks for a resync. */
function parseEvents(text: string): StorageEvent[] {
  try {
    const events: unknown = JSON.parse(text);
    if (Array.isArray(events)) return events as StorageEvent[];
  } catch {
    // Below.
  }
  return [{ type: 'resync' }];
}
