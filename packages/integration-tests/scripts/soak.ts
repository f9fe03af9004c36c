/**
 * The soak: worker processes with a skewed clock, SIGKILLs and PostgreSQL crashes under a
 * steady stream of jobs, then an audit of every execution. Exits non-zero on any failure.
 * What it does and what it prints: README.md beside this file.
 *
 *   pnpm soak [--duration 150] [--jobs 4000] [--workers 4] [--concurrency 10] [--lease-ms 4000]
 *             [--skew-ms 40000] [--restarts 2] [--restart-mode trigger|timer]
 *             [--kill-every 5-15] [--settle 90] [--fail-on-duplicates] [--keep-data]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPrivatePostgres } from '@reseolio/test-utils/private-postgres';
import pg from 'pg';
import { deserialize, FINAL_STATUSES, type JobStatus, type Logger, Reseolio } from 'reseolio';
import {
  type JobSpec,
  type ParentMessage,
  SOAK_BURST_JOB,
  SOAK_JOB,
  SOAK_POLICY,
  SOAK_SCHEMA_SQL,
  type WorkerConfig,
  type WorkerMessage,
} from './soak-shared.ts';

interface SoakOptions {
  /** Seconds of chaos (kills, restarts); jobs are enqueued over the first 80 %. */
  durationS: number;
  jobs: number;
  workers: number;
  concurrency: number;
  leaseMs: number;
  /** Clock skew of the last worker, in ms (0: none). */
  skewMs: number;
  restarts: number;
  restartMode: 'trigger' | 'timer';
  killEveryS: [number, number];
  /** Seconds to wait after the chaos for every job to be final. */
  settleS: number;
  failOnDuplicates: boolean;
  keepData: boolean;
  /** Add a `lease_token` column that a trigger fills on every claim, where there is none. */
  simulateTokens: boolean;
}

const DEFAULTS: SoakOptions = {
  durationS: 150,
  jobs: 4_000,
  workers: 4,
  concurrency: 10,
  leaseMs: 4_000,
  skewMs: 40_000,
  restarts: 2,
  restartMode: 'trigger',
  killEveryS: [5, 15],
  settleS: 90,
  failOnDuplicates: false,
  keepData: false,
  simulateTokens: false,
};

/** Share of the jobs enqueued with a delay, and the delays (ms). */
const DELAYED_SHARE = 0.15;
const DELAY_MS: [number, number] = [2_000, 8_000];
/** A delayed job's first start may precede its due time by this much (clock reads). */
const EARLY_TOLERANCE_MS = 250;

const WORKER_SCRIPT = fileURLToPath(new URL('./soak-worker.js', import.meta.url));

/** A kill or a PostgreSQL restart, in the database's clock (epoch ms). */
interface ChaosEvent {
  kind: 'kill' | 'restart';
  worker?: number;
  pid?: number;
  at: number;
  until: number;
  note?: string;
}

interface Worker {
  index: number;
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
}

interface WorkerLog {
  warnings: number;
  errors: number;
  leaseLost: number;
  samples: string[];
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function parseArgs(argv: string[]): SoakOptions {
  const options = { ...DEFAULTS };
  const number = (flag: string, value: string | undefined, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) usage(`${flag} takes an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case '--':
        continue;
      case '--duration':
        options.durationS = number(flag, value, 10);
        break;
      case '--jobs':
        options.jobs = number(flag, value, 1);
        break;
      case '--workers':
        options.workers = number(flag, value, 1);
        break;
      case '--concurrency':
        options.concurrency = number(flag, value, 1);
        break;
      case '--lease-ms':
        options.leaseMs = number(flag, value, 500);
        break;
      case '--skew-ms':
        options.skewMs = Number(value);
        if (!Number.isInteger(options.skewMs)) usage('--skew-ms takes an integer');
        break;
      case '--restarts':
        options.restarts = number(flag, value, 0);
        break;
      case '--restart-mode':
        if (value !== 'trigger' && value !== 'timer') usage('--restart-mode is trigger or timer');
        options.restartMode = value;
        break;
      case '--kill-every': {
        const [min, max] = (value ?? '').split('-').map(Number);
        if (!(min! > 0 && max! >= min!)) usage('--kill-every takes MIN-MAX seconds, e.g. 5-15');
        options.killEveryS = [min!, max!];
        break;
      }
      case '--settle':
        options.settleS = number(flag, value, 1);
        break;
      case '--fail-on-duplicates':
        options.failOnDuplicates = true;
        continue;
      case '--keep-data':
        options.keepData = true;
        continue;
      case '--simulate-tokens':
        options.simulateTokens = true;
        continue;
      default:
        usage(`unknown flag ${flag}`);
    }
    i++;
  }
  return options;
}

function usage(message: string): never {
  console.error(`soak: ${message}\n${HELP}`);
  process.exit(2);
}

const HELP = `usage: pnpm soak [--duration S] [--jobs N] [--workers N] [--concurrency N] [--lease-ms MS]
                 [--skew-ms MS] [--restarts N] [--restart-mode trigger|timer]
                 [--kill-every MIN-MAX] [--settle S] [--fail-on-duplicates] [--keep-data]
                 [--simulate-tokens]`;

const random = (min: number, max: number) => min + Math.random() * (max - min);
const randomInt = (min: number, max: number) => Math.floor(random(min, max + 1));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (line: string) =>
  console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** A regular job: mostly tens of ms, some longer (beyond a heartbeat, some beyond the lease). */
function regularSpec(n: number): JobSpec {
  const r = Math.random();
  const sleepMs =
    r < 0.8 ? randomInt(10, 80) : r < 0.95 ? randomInt(100, 1_000) : randomInt(2_000, 6_000);
  const f = Math.random();
  return { n, sleepMs, failAttempts: f < 0.07 ? 1 : f < 0.09 ? 2 : 0 };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const hardDeadlineMs = (options.durationS + options.settleS + 90) * 1_000;
  log(
    `${options.jobs} jobs, ${options.workers} workers × ${options.concurrency}, lease ${options.leaseMs} ms, ` +
      `worker ${options.workers - 1} clock ${options.skewMs >= 0 ? '+' : ''}${options.skewMs} ms, ` +
      `${options.durationS} s of chaos, hard deadline ${Math.round(hardDeadlineMs / 1000)} s`,
  );

  const server = await startPrivatePostgres({
    // Less WAL between a burst's claims and the crash (see README.md, PostgreSQL restarts).
    // Safe here: a crash of the server's processes cannot tear a page, only one of the OS can.
    settings: { max_connections: 300, full_page_writes: false },
  });
  const workers = new Map<number, Worker>();
  const workerLogs = new Map<number, WorkerLog>();
  let aborting = false;
  const abortAll = (why: string, code: number) => {
    if (aborting) return;
    aborting = true;
    console.error(`soak: ${why}: killing the workers and PostgreSQL`);
    for (const worker of workers.values()) worker.child.kill('SIGKILL');
    server.abort();
    process.exit(code);
  };
  const hardDeadline = setTimeout(
    () => abortAll(`hard deadline (${hardDeadlineMs} ms) reached`, 3),
    hardDeadlineMs,
  );
  hardDeadline.unref();
  process.once('SIGINT', () => abortAll('interrupted', 130));
  process.once('SIGTERM', () => abortAll('terminated', 143));

  const admin = new pg.Pool({ connectionString: server.url, max: 4 });
  admin.on('error', () => {});
  const producer = new Reseolio({ storage: server.url, workerConcurrency: 0, logger: quiet });
  const producerHandler = (_spec: JobSpec): string => {
    throw new Error('the producer runs no jobs');
  };
  const work = producer.durable(SOAK_JOB, producerHandler, SOAK_POLICY);
  const burstWork = producer.durable(SOAK_BURST_JOB, producerHandler, SOAK_POLICY);
  try {
    await producer.init(); // migrates
    await admin.query(SOAK_SCHEMA_SQL);
    if (options.simulateTokens) {
      await admin.query(SIMULATED_TOKENS_SQL);
      const added = (await admin.query('SELECT soak.simulate_lease_tokens() AS added')).rows[0]
        ?.added;
      log(
        added
          ? 'simulated lease tokens: a trigger writes a fresh lease_token on every claim (the engine still fences on attempt and owner)'
          : 'reseolio.jobs has a lease_token column already: --simulate-tokens does nothing',
      );
    }
    const offset = await measureOffset(admin);
    const dbNow = () => Date.now() + offset;
    log(`private PostgreSQL on ${server.url} (clock offset ${offset.toFixed(1)} ms)`);

    // ---- workers
    const spawnWorker = async (index: number): Promise<Worker> => {
      const config: WorkerConfig = {
        url: server.url,
        index,
        skewMs: index === options.workers - 1 ? options.skewMs : 0,
        concurrency: options.concurrency,
        leaseMs: options.leaseMs,
      };
      const child = spawn(process.execPath, [WORKER_SCRIPT], {
        env: { ...process.env, SOAK_WORKER: JSON.stringify(config) },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      const logState = workerLogs.get(index) ?? {
        warnings: 0,
        errors: 0,
        leaseLost: 0,
        samples: [],
      };
      workerLogs.set(index, logState);
      let pending = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith('warn:')) logState.warnings += 1;
          else logState.errors += 1;
          if (line.includes('lease was lost')) logState.leaseLost += 1;
          else if (logState.samples.length < 3) logState.samples.push(`worker ${index}: ${line}`);
        }
      });
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'crash') void onCrashRequest(child, message);
      });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker ${index} not ready in 60 s`)),
          60_000,
        );
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'ready') {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`worker ${index} exited before it was ready`));
        });
      });
      const worker = { index, child, pid: child.pid!, exited };
      workers.set(index, worker);
      return worker;
    };

    // ---- PostgreSQL restarts
    const events: ChaosEvent[] = [];
    /** Set while a restart waits for its crash trigger. */
    let armed: { n: number; fire: (crash: () => Promise<void>) => void } | undefined;
    async function onCrashRequest(
      child: ChildProcess,
      message: Extract<WorkerMessage, { type: 'crash' }>,
    ): Promise<void> {
      // Only the current burst's trigger, once (a trigger whose claim the crash undid runs its
      // first attempt again, and asks again).
      const fire = armed?.n === message.n ? armed.fire : undefined;
      if (fire) {
        armed = undefined;
        const at = dbNow();
        const crashed = server.crash(); // SIGQUIT is sent synchronously, right here
        fire(async () => {
          await crashed;
          const down = dbNow();
          await server.start();
          events.push({
            kind: 'restart',
            at,
            until: dbNow(),
            note: `trigger ${message.jobId}; down in ${Math.round(down - at)} ms, up in ${Math.round(dbNow() - down)} ms`,
          });
        });
        await crashed.catch(() => {});
        // The worker hears back once the server is up again (soon after, below).
        while (!aborting && server.postmasterPid() === undefined) await sleep(20);
      }
      const answer: ParentMessage = { type: 'crash-done', requestId: message.requestId };
      if (child.connected) child.send(answer);
    }

    const restart = async (number: number): Promise<void> => {
      if (options.restartMode === 'timer') {
        const at = dbNow();
        await server.restartImmediate();
        events.push({ kind: 'restart', at, until: dbNow(), note: 'timer' });
        log(`PostgreSQL restart ${number} (immediate, on a timer)`);
        return;
      }
      // A burst of `soak:burst` jobs, which only worker 0 runs, for half its slots. Its first
      // job is the trigger: its handler asks for the crash at its start, when its claim, made
      // in one statement with the rest of the burst, is milliseconds old. After the restart,
      // worker 0 has free slots while the burst's lost attempts still run, and claims the
      // undone jobs again while it runs them.
      const size = Math.max(2, Math.floor(options.concurrency / 2));
      // Quiet first: every synchronous commit (an ack, an execution's end) flushes the WAL
      // before it, claims included. Enqueueing pauses until nothing runs or is due (at most
      // 15 s), so that the crash falls where a claim's commit is not yet flushed.
      paused = true;
      const quietBy = Date.now() + 15_000;
      while (Date.now() < quietBy) {
        const busy = await retrying(() =>
          admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM reseolio.jobs
             WHERE status = 'running' OR (status = 'pending' AND run_at <= $1)`,
            [Date.now()],
          ),
        );
        if (Number(busy.rows[0]!.n) === 0) break;
        await sleep(100);
      }
      const burst: JobSpec[] = Array.from({ length: size }, (_, i) => ({
        n: -(number * 1_000 + i),
        sleepMs: randomInt(1_500, 3_500),
        burst: true,
        lingerMs: randomInt(1_500, 3_000),
        failAttempts: 0,
        ...(i === 0 && { crash: true }),
      }));
      const fired = new Promise<(() => Promise<void>) | undefined>((resolve) => {
        armed = { n: burst[0]!.n, fire: resolve };
        setTimeout(() => resolve(undefined), 20_000);
      });
      await enqueue(burst, 'burst');
      const finish = await fired;
      if (finish) {
        await finish();
        paused = false;
        log(
          `PostgreSQL restart ${number} (immediate, triggered by a handler right after its claim)`,
        );
      } else {
        armed = undefined;
        paused = false;
        const at = dbNow();
        await server.restartImmediate();
        events.push({ kind: 'restart', at, until: dbNow(), note: 'trigger not run in 20 s' });
        log(`PostgreSQL restart ${number} (immediate; the trigger job did not run in 20 s)`);
      }
    };

    // ---- enqueueing
    const enqueued = new Set<string>();
    /** Set while a triggered restart waits for a quiet queue (see restart()). */
    let paused = false;
    let delayedCount = 0;
    /** Enqueues (retrying through restarts) and records each job's kind and due time. */
    async function enqueue(specs: JobSpec[], kind: string, delayMs = 0): Promise<void> {
      for (let tries = 0; ; tries++) {
        try {
          const handles = await (kind === 'burst' ? burstWork : work).enqueueMany(
            specs.map((spec) => [spec]),
            delayMs > 0 ? { delayMs } : undefined,
          );
          const ids = handles.map((handle) => handle.jobId);
          for (const id of ids) enqueued.add(id);
          // Due times are needed for delayed jobs only. (Not for a burst: this synchronous
          // commit would flush the burst's claims before the crash.)
          if (kind !== 'delayed') return;
          await retrying(() =>
            admin.query(
              `INSERT INTO soak.jobs_meta (job_id, kind, due_at)
               SELECT id, $2, run_at FROM reseolio.jobs WHERE id = ANY($1::uuid[])`,
              [ids, kind],
            ),
          );
          return;
        } catch (error) {
          // A restart: the batch may have been stored with its answer lost. Its jobs then run
          // as unknown extras (they are audited like the others); this batch goes again.
          if (tries > 100) throw error;
          await sleep(250);
        }
      }
    }

    const enqueueLoop = async (until: number): Promise<void> => {
      const tickMs = 500;
      const start = Date.now();
      const ticks = Math.max(1, Math.floor((until - start) / tickMs));
      let n = 0;
      for (let tick = 1; tick <= ticks; tick++) {
        while (paused) await sleep(100);
        const target = Math.round((options.jobs * tick) / ticks);
        const specs = Array.from({ length: target - n }, () => regularSpec(n++));
        const delayed = specs.filter(() => Math.random() < DELAYED_SHARE);
        const now = specs.filter((spec) => !delayed.includes(spec));
        delayedCount += delayed.length;
        await Promise.all([
          now.length > 0 ? enqueue(now, 'regular') : undefined,
          delayed.length > 0
            ? enqueue(delayed, 'delayed', randomInt(DELAY_MS[0], DELAY_MS[1]))
            : undefined,
        ]);
        await sleep(start + tick * tickMs - Date.now());
      }
    };

    // ---- chaos
    const chaosLoop = async (until: number): Promise<void> => {
      const span = until - Date.now();
      const restartAt = Array.from(
        { length: options.restarts },
        (_, i) => Date.now() + ((i + 1) / (options.restarts + 1)) * span + random(-2_000, 2_000),
      );
      const nextKillDelay = () => random(options.killEveryS[0], options.killEveryS[1]) * 1_000;
      let nextKill = Date.now() + nextKillDelay();
      let restarts = 0;
      for (;;) {
        const nextRestart = restartAt[0];
        if (nextRestart !== undefined && nextRestart <= nextKill) {
          await sleep(nextRestart - Date.now());
          restartAt.shift();
          await restart(++restarts);
          // The next kill counts from the restart's end: a kill due meanwhile would otherwise
          // follow at once and kill the attempts the restart is about.
          nextKill = Math.max(nextKill, Date.now() + nextKillDelay());
          continue;
        }
        if (nextKill >= until) return;
        await sleep(nextKill - Date.now());
        const index = randomInt(0, options.workers - 1);
        const victim = workers.get(index)!;
        const at = dbNow();
        victim.child.kill('SIGKILL');
        await victim.exited;
        await spawnWorker(index);
        events.push({ kind: 'kill', worker: index, pid: victim.pid, at, until: dbNow() });
        nextKill = Date.now() + nextKillDelay();
      }
    };

    for (let index = 0; index < options.workers; index++) await spawnWorker(index);
    log(`${options.workers} workers ready; chaos for ${options.durationS} s`);
    const t0 = dbNow();
    const chaosEnd = Date.now() + options.durationS * 1_000;
    await Promise.all([enqueueLoop(Date.now() + options.durationS * 800), chaosLoop(chaosEnd)]);
    await sleep(chaosEnd - Date.now());
    log(
      `chaos over: ${events.filter((e) => e.kind === 'kill').length} kills, ` +
        `${events.filter((e) => e.kind === 'restart').length} PostgreSQL restarts; waiting up to ${options.settleS} s for every job to be final`,
    );

    // ---- settle
    const settleBy = Date.now() + options.settleS * 1_000;
    for (;;) {
      const open = await retrying(() =>
        admin.query<{ n: string }>(
          'SELECT count(*) AS n FROM reseolio.jobs WHERE NOT (status = ANY($1))',
          [FINAL_STATUSES],
        ),
      );
      if (Number(open.rows[0]!.n) === 0 || Date.now() > settleBy) break;
      await sleep(1_000);
    }
    await Promise.all(
      [...workers.values()].map(async (worker) => {
        worker.child.kill('SIGTERM');
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), 10_000);
        await worker.exited;
        clearTimeout(timer);
      }),
    );
    workers.clear();

    // ---- audit
    await retrying(() =>
      admin.query(
        `INSERT INTO soak.events (kind, worker, pid, at_ms, until_ms, note)
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::text[])`,
        [
          events.map((e) => e.kind),
          events.map((e) => e.worker ?? null),
          events.map((e) => e.pid ?? null),
          events.map((e) => Math.round(e.at)),
          events.map((e) => Math.round(e.until)),
          events.map((e) => e.note ?? null),
        ],
      ),
    );
    const audit = await runAudit(admin, {
      enqueued,
      events,
      windowMs: 2 * options.leaseMs + 5_000,
    });
    const failures =
      audit.lost.length +
      audit.sameFence.length +
      audit.wrongOutcome.length +
      audit.earlyDelayed.length +
      audit.stuck.length +
      (options.failOnDuplicates ? audit.duplicatesOutside.length : 0);
    console.log(
      `\n${formatSummary(options, audit, events, delayedCount, workerLogs, failures, t0)}`,
    );
    return failures === 0 ? 0 : 1;
  } finally {
    for (const worker of workers.values()) worker.child.kill('SIGKILL');
    await producer.stop().catch(() => {});
    await admin.end().catch(() => {});
    if (options.keepData) log(`data kept in ${server.dataDir} (server stopped)`);
    await server.stop({ keepData: options.keepData });
    clearTimeout(hardDeadline);
  }
}

/**
 * `--simulate-tokens`, to check the audit's token mode on an engine without tokens: a
 * `lease_token` column that a trigger fills with a fresh value on every claim (a row turning
 * `running`) and leaves on the row afterwards, as the tokens being built will. The engine's
 * fence stays (attempt, owner), so the audit should then see wrong outcomes, not same-fence
 * executions. Does nothing where the column exists.
 */
const SIMULATED_TOKENS_SQL = `
CREATE OR REPLACE FUNCTION soak.simulate_lease_tokens() RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  IF EXISTS (SELECT 1 FROM information_schema.columns
             WHERE table_schema = 'reseolio' AND table_name = 'jobs' AND column_name = 'lease_token') THEN
    RETURN false;
  END IF;
  ALTER TABLE reseolio.jobs ADD COLUMN lease_token text;
  CREATE FUNCTION soak.simulated_lease_token() RETURNS trigger LANGUAGE plpgsql AS $t$
  BEGIN
    IF NEW.status = 'running' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'running') THEN
      NEW.lease_token := gen_random_uuid()::text;
    END IF;
    RETURN NEW;
  END $t$;
  CREATE TRIGGER simulated_lease_token BEFORE INSERT OR UPDATE ON reseolio.jobs
    FOR EACH ROW EXECUTE FUNCTION soak.simulated_lease_token();
  RETURN true;
END $f$;
`;

/** The database's clock minus ours, from the fastest of a few round trips. */
async function measureOffset(admin: pg.Pool): Promise<number> {
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const sent = Date.now();
    const { rows } = await admin.query<{ ms: string }>(
      'SELECT extract(epoch FROM clock_timestamp()) * 1000 AS ms',
    );
    const received = Date.now();
    if (received - sent < best.rtt) {
      best = { rtt: received - sent, offset: Number(rows[0]!.ms) - (sent + received) / 2 };
    }
  }
  return best.offset;
}

async function retrying<T>(statement: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await statement();
    } catch (error) {
      if (tries > 150) throw error;
      await sleep(200);
    }
  }
}

// ---------------------------------------------------------------------------- the audit

interface Execution {
  id: string;
  jobId: string;
  attempt: number;
  worker: number;
  pid: number;
  workerId: string;
  startedAt: number;
  endedAt: number | null;
  returnedAt: number | null;
  outcome: 'returned' | 'threw' | null;
  aborted: boolean | null;
  leaseToken: string | null;
  rowStatus: string | null;
  rowAttempt: number | null;
  rowOwner: string | null;
  readRetried: boolean;
  /** What fenced this execution's claim, when the handler could read it reliably. */
  fence: string | null;
}

interface JobRow {
  id: string;
  status: JobStatus;
  attempt: number;
  result: string | null;
  leaseToken: string | null;
}

interface Audit {
  tokens: boolean;
  jobs: JobRow[];
  executions: Execution[];
  unknownJobs: number;
  lost: string[];
  sameFence: Execution[][];
  sameAttemptWorker: Execution[][];
  reusedAttempts: number;
  wrongOutcome: { job: JobRow; execution: Execution; why: string }[];
  duplicatesWithin: string[];
  duplicatesOutside: { jobId: string; previous: Execution; rerun: Execution }[];
  earlyDelayed: { jobId: string; dueAt: number; startedAt: number }[];
  stuck: JobRow[];
}

async function runAudit(
  admin: pg.Pool,
  input: { enqueued: Set<string>; events: ChaosEvent[]; windowMs: number },
): Promise<Audit> {
  const tokens =
    (
      await admin.query(
        `SELECT 1 FROM information_schema.columns
         WHERE table_schema = 'reseolio' AND table_name = 'jobs' AND column_name = 'lease_token'`,
      )
    ).rowCount === 1;
  const jobs: JobRow[] = (
    await admin.query(
      `SELECT id, status, attempt, result, to_jsonb(j)->>'lease_token' AS lease_token
       FROM reseolio.jobs AS j WHERE name = ANY($1::text[])`,
      [[SOAK_JOB, SOAK_BURST_JOB]],
    )
  ).rows.map((row) => ({
    id: row.id,
    status: row.status,
    attempt: row.attempt,
    result: row.result,
    leaseToken: row.lease_token,
  }));
  const executions: Execution[] = (
    await admin.query(
      `SELECT *, extract(epoch FROM started_at) * 1000 AS started_ms,
         extract(epoch FROM ended_at) * 1000 AS ended_ms,
         extract(epoch FROM returned_at) * 1000 AS returned_ms
       FROM soak.executions`,
    )
  ).rows.map((row) => {
    const execution: Execution = {
      id: row.id,
      jobId: row.job_id,
      attempt: row.attempt,
      worker: row.worker,
      pid: row.pid,
      workerId: row.worker_id,
      startedAt: Number(row.started_ms),
      endedAt: row.ended_ms === null ? null : Number(row.ended_ms),
      returnedAt: row.returned_ms === null ? null : Number(row.returned_ms),
      outcome: row.outcome,
      aborted: row.aborted,
      leaseToken: row.lease_token,
      rowStatus: row.row_status,
      rowAttempt: row.row_attempt,
      rowOwner: row.row_owner,
      readRetried: row.read_retried,
      fence: null,
    };
    execution.fence = fenceOf(execution, tokens);
    return execution;
  });
  const meta = new Map(
    (await admin.query('SELECT job_id, kind, due_at FROM soak.jobs_meta')).rows.map((row) => [
      row.job_id as string,
      { kind: row.kind as string, dueAt: Number(row.due_at) },
    ]),
  );

  const jobById = new Map(jobs.map((job) => [job.id, job]));
  const executionById = new Map(executions.map((e) => [e.id, e]));
  const byJob = groupBy(executions, (e) => e.jobId);
  for (const list of byJob.values()) list.sort((a, b) => a.startedAt - b.startedAt);

  // lost: a job we enqueued is gone, or it succeeded with a result no finished execution made.
  const lost: string[] = [];
  for (const id of input.enqueued) if (!jobById.has(id)) lost.push(`${id}: not in the jobs table`);
  for (const job of jobs) {
    if (job.status !== 'success') continue;
    const executionId = resultOf(job);
    const execution = executionId === undefined ? undefined : executionById.get(executionId);
    if (!execution) lost.push(`${job.id}: result ${executionId} is no recorded execution`);
    else if (execution.outcome !== 'returned')
      lost.push(`${job.id}: result ${executionId} is an execution with no recorded end`);
  }

  // One claim's fence used by two executions: exactly what fencing must make impossible.
  const sameFence = [
    ...groupBy(
      executions.filter((e) => e.fence !== null),
      (e) => `${e.jobId}/${e.fence}`,
    ).values(),
  ].filter((group) => group.length > 1);
  // The same process ran the same attempt number twice: legitimate once fences are tokens
  // (a crash undid the claim and the same process claimed the job again).
  const sameAttemptWorker = [
    ...groupBy(executions, (e) => `${e.jobId}/${e.attempt}/${e.workerId}`).values(),
  ].filter((group) => group.length > 1);
  const reusedAttempts = [...groupBy(executions, (e) => `${e.jobId}/${e.attempt}`).values()].filter(
    (group) => group.length > 1,
  ).length;

  // wrong outcome: the accepted result came from an execution whose claim was not the last.
  // With tokens: the result's execution is not the one that read the job's final token.
  // Without: a later execution of the same job held the same (attempt, owner) fence.
  const wrongOutcome: Audit['wrongOutcome'] = [];
  for (const job of jobs) {
    const execution = job.status === 'success' ? executionById.get(resultOf(job) ?? '') : undefined;
    if (!execution) continue;
    const others = (byJob.get(job.id) ?? []).filter((other) => other !== execution);
    if (tokens) {
      const holder = others.find(
        (other) => other.fence !== null && other.fence === `token ${job.leaseToken}`,
      );
      if (execution.fence !== null && execution.leaseToken !== job.leaseToken) {
        wrongOutcome.push({
          job,
          execution,
          why: `its lease token ${execution.leaseToken} is not the job's final ${job.leaseToken}`,
        });
      } else if (holder && execution.fence !== holder.fence) {
        wrongOutcome.push({
          job,
          execution,
          why: `the job's final lease token was read by execution ${holder.id} (worker ${holder.worker})`,
        });
      }
      continue;
    }
    const later = others.find(
      (other) => other.fence === execution.fence && other.startedAt > execution.startedAt,
    );
    if (later) {
      wrongOutcome.push({
        job,
        execution,
        why: `a later execution (${later.id}, worker ${later.worker}) held the same fence`,
      });
    }
  }

  // Re-runs of work that had already completed, and whether a kill or restart explains them.
  const duplicatesWithin = new Set<string>();
  const duplicatesOutside: Audit['duplicatesOutside'] = [];
  for (const [jobId, list] of byJob) {
    for (const rerun of list) {
      const previous = list.find(
        (p) =>
          p !== rerun &&
          p.outcome === 'returned' &&
          p.endedAt !== null &&
          p.endedAt <= rerun.startedAt,
      );
      if (!previous) continue;
      const explained = input.events.some(
        (event) => event.at <= rerun.startedAt && event.until >= rerun.startedAt - input.windowMs,
      );
      if (explained) duplicatesWithin.add(jobId);
      else duplicatesOutside.push({ jobId, previous, rerun });
    }
  }
  const outsideJobs = new Map(duplicatesOutside.map((d) => [d.jobId, d]));
  for (const id of outsideJobs.keys()) duplicatesWithin.delete(id);

  const earlyDelayed: Audit['earlyDelayed'] = [];
  for (const [jobId, info] of meta) {
    if (info.kind !== 'delayed') continue;
    const first = byJob.get(jobId)?.[0];
    if (first && first.startedAt < info.dueAt - EARLY_TOLERANCE_MS) {
      earlyDelayed.push({ jobId, dueAt: info.dueAt, startedAt: first.startedAt });
    }
  }

  return {
    tokens,
    jobs,
    executions,
    unknownJobs: jobs.filter((job) => !input.enqueued.has(job.id)).length,
    lost,
    sameFence,
    sameAttemptWorker,
    reusedAttempts,
    wrongOutcome,
    duplicatesWithin: [...duplicatesWithin],
    duplicatesOutside: [...outsideJobs.values()],
    earlyDelayed,
    stuck: jobs.filter((job) => !FINAL_STATUSES.includes(job.status)),
  };
}

/**
 * The fence of the claim an execution ran under. Where `reseolio.jobs` has a `lease_token`
 * column, the token its handler read from the job's row at start; null when that read cannot
 * be trusted: it was re-sent after a connection error (a crash may have undone the claim and
 * another claim's token been read), or the row was not this attempt's running row. Without
 * the column, what fences outcomes today: (attempt, owner), both known to the execution itself.
 */
function fenceOf(e: Execution, tokens: boolean): string | null {
  if (!tokens) return `attempt ${e.attempt} owner ${e.workerId}`;
  if (e.readRetried || e.rowStatus !== 'running' || e.rowAttempt !== e.attempt) return null;
  return e.leaseToken === null ? null : `token ${e.leaseToken}`;
}

function resultOf(job: JobRow): string | undefined {
  if (job.result === null) return undefined;
  try {
    const value = deserialize(job.result);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

// ---------------------------------------------------------------------------- the summary

function formatSummary(
  options: SoakOptions,
  audit: Audit,
  events: ChaosEvent[],
  delayedCount: number,
  workerLogs: Map<number, WorkerLog>,
  failures: number,
  t0: number,
): string {
  const count = (status: string) => audit.jobs.filter((job) => job.status === status).length;
  const executions = audit.executions;
  const kills = events.filter((e) => e.kind === 'kill');
  const restarts = events.filter((e) => e.kind === 'restart');
  const logs = [...workerLogs.values()];
  const sum = (pick: (l: WorkerLog) => number) => logs.reduce((total, l) => total + pick(l), 0);
  const members = (groups: Execution[][]) => groups.reduce((n, g) => n + g.length, 0);
  /** A database-clock time as seconds into the chaos. */
  const t = (ms: number | null) => (ms === null ? '-' : `t+${((ms - t0) / 1000).toFixed(3)}s`);
  const describe = (e: Execution) =>
    `execution ${e.id} (worker ${e.worker}, pid ${e.pid}, attempt ${e.attempt}, ` +
    `${e.outcome ?? 'unfinished'}${e.aborted ? ', aborted' : ''}; started ${t(e.startedAt)}, ` +
    `ended ${t(e.endedAt)}${e.returnedAt === null ? '' : `, returned ${t(e.returnedAt)}`})`;
  const lines: string[] = [];
  const row = (label: string, value: string | number, note = '') =>
    lines.push(`${label.padEnd(38)} ${String(value).padStart(6)}${note ? `   ${note}` : ''}`);
  const examples = (items: string[]) => {
    for (const item of items.slice(0, 3)) lines.push(`    e.g. ${item}`);
  };

  lines.push('== reseolio soak ==');
  lines.push(
    `setup      ${options.workers} workers × ${options.concurrency}, lease ${options.leaseMs} ms, ` +
      `worker ${options.workers - 1}'s clock ${options.skewMs >= 0 ? '+' : ''}${options.skewMs} ms, ` +
      `${options.durationS} s of chaos, restarts: ${options.restartMode}`,
  );
  lines.push(
    `fence      ${audit.tokens ? `lease_token (the column exists${options.simulateTokens ? '; --simulate-tokens' : ''})` : '(attempt, owner): reseolio.jobs has no lease_token column'}`,
  );
  lines.push(
    `jobs       ${audit.jobs.length} (${audit.jobs.length - audit.unknownJobs} enqueued and acknowledged, ` +
      `${delayedCount} of them delayed, ${audit.unknownJobs} stored by an enqueue whose answer a restart lost): ` +
      `${count('success')} success, ${count('dead')} dead, ${count('cancelled')} cancelled`,
  );
  lines.push(
    `chaos      ${kills.length} worker kills (SIGKILL, restarted), ${restarts.length} PostgreSQL restarts ` +
      `(immediate${restarts.length > 0 ? `: ${restarts.map((r) => `${Math.round(r.until - r.at)} ms down`).join(', ')}` : ''})`,
  );
  for (const r of restarts) {
    lines.push(`    restart at ${t(r.at)}, up at ${t(r.until)}: ${r.note ?? ''}`);
  }
  lines.push(
    `executions ${executions.length}: ${executions.filter((e) => e.outcome === 'returned').length} returned, ` +
      `${executions.filter((e) => e.outcome === 'threw').length} threw, ` +
      `${executions.filter((e) => e.outcome === null).length} never finished (killed or crashed mid-run), ` +
      `${executions.filter((e) => e.aborted).length} finished after their signal aborted, ` +
      `${executions.filter((e) => e.fence === null).length} with a fence the handler could not read reliably`,
  );
  lines.push(
    `engines    ${sum((l) => l.warnings)} warnings (${sum((l) => l.leaseLost)} "lease was lost…"), ${sum((l) => l.errors)} errors`,
  );
  for (const l of logs) for (const sample of l.samples) lines.push(`    e.g. ${sample}`);
  lines.push('');
  lines.push('-- failures');
  row(
    'lost',
    audit.lost.length,
    'jobs missing, or success with no finished execution behind the result',
  );
  examples(audit.lost);
  row(
    'same-fence executions',
    members(audit.sameFence),
    `in ${audit.sameFence.length} (job, fence) pairs`,
  );
  examples(audit.sameFence.map((g) => `job ${g[0]!.jobId}: ${g.map(describe).join(' and ')}`));
  row('wrong outcome', audit.wrongOutcome.length, 'success jobs whose result is a lost attempt’s');
  examples(
    audit.wrongOutcome.map(
      (w) => `job ${w.job.id}: result from ${describe(w.execution)}: ${w.why}`,
    ),
  );
  row(
    'early delayed',
    audit.earlyDelayed.length,
    `delayed jobs first started before their due time (−${EARLY_TOLERANCE_MS} ms)`,
  );
  examples(
    audit.earlyDelayed.map(
      (d) => `job ${d.jobId} started ${Math.round(d.dueAt - d.startedAt)} ms before it was due`,
    ),
  );
  row('stuck', audit.stuck.length, `jobs not final ${options.settleS} s after the chaos`);
  examples(audit.stuck.map((job) => `job ${job.id}: ${job.status}, attempt ${job.attempt}`));
  if (options.failOnDuplicates) {
    row(
      'duplicates outside a kill/restart window',
      audit.duplicatesOutside.length,
      '(--fail-on-duplicates)',
    );
  }
  lines.push('');
  lines.push('-- information');
  row(
    'attempt numbers run twice',
    audit.reusedAttempts,
    '(job, attempt) pairs: a crash undid a claim',
  );
  row(
    'same (job, attempt, worker) executions',
    members(audit.sameAttemptWorker),
    `in ${audit.sameAttemptWorker.length} groups`,
  );
  row(
    'duplicates within a kill/restart window',
    audit.duplicatesWithin.length,
    `jobs re-run ≤ ${(2 * options.leaseMs + 5_000) / 1000} s after a kill or restart`,
  );
  if (!options.failOnDuplicates) {
    row(
      'duplicates outside any window',
      audit.duplicatesOutside.length,
      'jobs re-run after a finished execution with no kill or restart to explain it',
    );
  }
  examples(
    audit.duplicatesOutside.map(
      (d) =>
        `job ${d.jobId}: ${describe(d.previous)} ended, then ${describe(d.rerun)} started ${Math.round(d.rerun.startedAt - (d.previous.endedAt ?? 0))} ms later`,
    ),
  );
  lines.push('');
  lines.push(
    failures === 0
      ? 'RESULT ✓ nothing lost, no fence used twice, no wrong outcome, no early delayed job, nothing stuck'
      : `RESULT ✗ ${failures} failure(s)`,
  );
  return lines.join('\n');
}

process.exitCode = await main().catch((error: unknown) => {
  console.error('soak aborted:', error);
  return 2;
});
// Anything left holding the event loop (a stray socket) must not keep a bounded run alive.
setTimeout(() => process.exit(), 1_000).unref();
