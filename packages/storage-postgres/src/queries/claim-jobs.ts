import type { ClaimInput, FlowRule, JobRecord, StorageEvent } from 'reseolio/storage';
import { toJobRecord } from '../job-row.ts';
import { quoteIdent, type SchemaNames } from '../schema-names.ts';
import type { SqlExecutor } from '../sql-executor.ts';

/**
 * Leases up to `limit` due jobs in one statement, through the `claim_jobs` SQL function
 * (`drizzle/0001_claim_function.sql`, replaced in `0002_list_and_claim_by_id.sql`,
 * `0003_lease_token.sql`, `0005_workflows.sql` and `0006_flow_control.sql`), or, when the
 * claim carries flow rules for any of its names, through `claim_jobs_flow` (0006, whose header
 * explains the rules, the per-group advisory try-locks and the reads; replaced in
 * `0008_flow_claim_by_id.sql`, which leases through the primary key and plans no sequential
 * scan).
 *
 * The function's CTE picks candidates through the partial `jobs_due_priority_idx` (only pending
 * and waiting rows, in claim order: priority descending, `run_at`, then id, which for UUIDv7
 * ids is creation order), one priority level at a time (a skip scan over the levels, so jobs
 * not due yet are never read, see 0006), and locks them `FOR UPDATE SKIP LOCKED`: rows another
 * claimer has locked are skipped, not waited on, so concurrent claimers never block each other
 * and never get the same job. The UPDATE then takes the lease: `running`, the owner, the lease deadline,
 * `attempt + 1` and the claim's fresh lease token (the fence every later heartbeat and ack
 * must present: see `drizzle/0003_lease_token.sql`). The lock is held
 * until the statement commits, so a row cannot be taken twice between the SELECT and the
 * UPDATE. A waiting job is claimed like a pending one once its `run_at` comes (a sleep ends, a
 * wait times out); the claim clears what it waited for.
 *
 * Why a function: its `SET enable_bitmapscan = off, enable_sort = off` leave the planner one
 * sensible plan, the ordered index scan that stops after `limit` entries. Without them the
 * plan depends on the statistics, and they are wrong exactly when it matters: a fresh table
 * has none (PostgreSQL then guesses 0.5 % of rows for `status = 'pending'`), and a table of
 * finished jobs says almost nothing is pending just before a burst arrives. For a small
 * estimate a bitmap scan of the whole pending index plus a sort looks cheaper, and every claim
 * then reads and sorts ALL pending jobs: a claim costs as much as the backlog is long instead
 * of as much as `limit`, and a large backlog drains slower the larger it is (the figures are in
 * docs/benchmarks.md, "Measurements behind design choices").
 * A function's settings apply on any connection, borrowed pools included, at no extra round
 * trip; plpgsql caches the plan per connection like a prepared statement.
 *
 * The claim commits without waiting for the WAL flush (`synchronous_commit` off, for the
 * claim's transaction only). A claim lost in a server crash only makes its job pending again,
 * to run again as after any crash mid-attempt, under a new token: the execution that started
 * from the lost claim holds a token no row has, so none of its writes can land; every outcome's commit is synchronous and
 * flushes the claim before it. The reasoning and the measurement are in `0002`'s header.
 */
export async function claimJobs(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ClaimInput,
): Promise<{ jobs: JobRecord[]; events: StorageEvent[] }> {
  if (input.names.length === 0 || input.limit <= 0) return { jobs: [], events: [] };
  const rules = (input.flow ?? []).filter(
    (rule) =>
      (rule.concurrency !== undefined || rule.rateLimit !== undefined) &&
      input.names.includes(rule.name),
  );
  if (rules.length > 0) return claimWithRules(exec, names, input, rules);
  const rows = await exec(
    `SELECT * FROM ${quoteIdent(names.schema)}.claim_jobs($1, $2::text[], $3, $4, $5, $6)`,
    [
      input.now,
      [...input.names],
      input.limit,
      input.ownerId,
      input.leaseToken,
      input.leaseExpiresAt,
    ],
  );
  // RETURNING has no order; hand jobs back in claim order.
  const jobs = rows
    .map(toJobRecord)
    .sort((a, b) => b.priority - a.priority || a.runAt - b.runAt || (a.id < b.id ? -1 : 1));
  return { jobs, events: [] };
}

/**
 * The claim with flow rules: one call of `claim_jobs_flow`, whose rows are the jobs taken
 * (with their place in claim order: priority, fairness round, `run_at`, id) and, for each
 * ruled name whose due jobs a rule left behind, the time one could start: the `ready` events
 * the caller delivers to this process's listeners (not over NOTIFY: the claim knows only what
 * this process asked for).
 */
async function claimWithRules(
  exec: SqlExecutor,
  names: SchemaNames,
  input: ClaimInput,
  rules: readonly FlowRule[],
): Promise<{ jobs: JobRecord[]; events: StorageEvent[] }> {
  const rows = await exec(
    `SELECT f.o_order, (f.o_job).*, f.o_ready_name, f.o_ready_at
     FROM ${quoteIdent(names.schema)}.claim_jobs_flow($1, $2::text[], $3, $4, $5, $6,
       $7::text[], $8::integer[], $9::integer[], $10::bigint[]) AS f`,
    [
      input.now,
      [...input.names],
      input.limit,
      input.ownerId,
      input.leaseToken,
      input.leaseExpiresAt,
      rules.map((rule) => rule.name),
      rules.map((rule) => rule.concurrency ?? null),
      rules.map((rule) => rule.rateLimit?.limit ?? null),
      rules.map((rule) => rule.rateLimit?.periodMs ?? null),
    ],
  );
  const taken: { order: number; job: JobRecord }[] = [];
  const events: StorageEvent[] = [];
  for (const row of rows) {
    if (row.o_ready_name !== null && row.o_ready_name !== undefined) {
      events.push({
        type: 'ready',
        name: row.o_ready_name as string,
        runAt: Number(row.o_ready_at),
      });
    } else {
      taken.push({ order: Number(row.o_order), job: toJobRecord(row) });
    }
  }
  taken.sort((a, b) => a.order - b.order);
  return { jobs: taken.map(({ job }) => job), events };
}
