import type { JobFilter } from 'reseolio/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJobsQuery } from '../src/queries/list-jobs.ts';
import { schemaNames } from '../src/schema-names.ts';
import { adminQuery, dropSchema, schemaFor, storageOn } from './helpers.ts';

/**
 * The dashboard's pages must not depend on the table's size: each listing is an index scan
 * that stops after its page, never a sort of every matching row. Checked with EXPLAIN on a
 * seeded, analyzed table (plans, not timings: the bench's `list-scale` metric times them at
 * 1,000,000 jobs).
 */
const schema = schemaFor('listing-plans', 'seeded');
const names = schemaNames(schema);
const SEEDED = 60_000;
const NOW = 1_800_000_000_000;

beforeAll(async () => {
  await dropSchema(schema);
  const storage = storageOn(schema);
  await storage.init();
  await storage.close();
  // Made over a day, ids UUIDv7 in creation order: 0.5 % dead, 0.5 % cancelled, 1 % pending
  // (the newest), a tenth with an idempotency key, the rest succeeded.
  await adminQuery(
    `INSERT INTO ${names.jobs} (id, name, status, args, policy, attempt, max_attempts,
       idempotency_key, created_at, run_at, completed_at)
     SELECT (lpad(to_hex(t), 12, '0') || '7' || substr(h, 1, 3) || '8' || substr(h, 4, 15))::uuid,
       'plans:' || (g % 5), st, '[]', '{}', 1, 3,
       CASE WHEN g % 10 = 0 THEN 'order-' || g END, t, t,
       CASE WHEN st IN ('success', 'dead', 'cancelled') THEN t + 5 END
     FROM (
       SELECT g, $2::bigint - 86400000 + g * (86400000 / $1::bigint) AS t, md5(g::text) AS h,
         CASE WHEN g > $1 - $1 / 100 THEN 'pending' WHEN g % 200 = 7 THEN 'dead'
              WHEN g % 200 = 11 THEN 'cancelled' ELSE 'success' END AS st
       FROM generate_series(1, $1) AS g) AS s`,
    [SEEDED, NOW],
  );
  await adminQuery(`ANALYZE ${names.jobs}`);
}, 120_000);

afterAll(async () => {
  await dropSchema(schema);
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of the plan `listJobs(filter)` runs, flattened. */
async function planOf(filter: JobFilter): Promise<PlanNode[]> {
  const query = listJobsQuery(names, { limit: 50, ...filter })!;
  const { rows } = await adminQuery(`EXPLAIN (FORMAT JSON) ${query.text}`, query.values);
  const nodes: PlanNode[] = [];
  const walk = (node: PlanNode) => {
    nodes.push(node);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
  return nodes;
}

async function indexesUsed(filter: JobFilter): Promise<string[]> {
  const nodes = await planOf(filter);
  const types = nodes.map((n) => n['Node Type']);
  // Neither a sort of the matching rows nor a read of the whole table.
  expect(types).not.toContain('Sort');
  expect(types).not.toContain('Seq Scan');
  return nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : []));
}

describe('listJobs plans on a seeded table', () => {
  it('the first page and a cursor page walk the primary key backwards', async () => {
    const [newest] = (
      await adminQuery(`SELECT id FROM ${names.jobs} ORDER BY id LIMIT 1 OFFSET $1`, [SEEDED / 2])
    ).rows;
    expect(await indexesUsed({})).toEqual(['jobs_pkey']);
    expect(await indexesUsed({ before: newest.id as string })).toEqual(['jobs_pkey']);
    expect(await indexesUsed({ status: 'success' })).toEqual(['jobs_pkey']);
    expect(await indexesUsed({ createdAfter: NOW - 3_600_000 })).toEqual(['jobs_pkey']);
  });

  it('dead and cancelled pages read the partial index of failed jobs, with the cursor too', async () => {
    expect(await indexesUsed({ status: 'dead' })).toEqual(['jobs_failed_idx']);
    expect(
      await indexesUsed({ status: 'cancelled', before: 'ffffffff-ffff-7fff-bfff-ffffffffffff' }),
    ).toEqual(['jobs_failed_idx']);
  });

  it('an idempotency key without a name probes the (name, key) index, one name at a time', async () => {
    // A key matches a job or a few (one per function), sorted once found: no table scan.
    const nodes = await planOf({ idempotencyKey: 'order-500' });
    expect(nodes.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(new Set(nodes.flatMap((n) => (n['Index Name'] ? [n['Index Name']] : [])))).toEqual(
      new Set(['jobs_name_idempotency_key_idx']),
    );
  });
});
