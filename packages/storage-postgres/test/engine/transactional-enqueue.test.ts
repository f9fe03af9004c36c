import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { Reseolio } from 'reseolio';
import { expect, it, onTestFinished } from 'vitest';
import { adminQuery, databaseUrl, dropSchema, schemaFor, storageOn } from '../helpers.ts';

// The README's outbox pattern through the engine: the job and the app's own row commit together.
it('fn.enqueue inside a drizzle transaction runs only if the transaction commits', async ({
  task,
}) => {
  const schema = schemaFor('engine-tx', task.name);
  await dropSchema(schema);
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 3 });
  const storage = storageOn(schema, { pool });
  const reseolio = new Reseolio({ storage, workerConcurrency: 2, pollIntervalMs: 60_000 });
  onTestFinished(async () => {
    await reseolio.stop();
    await storage.close();
    await pool.end();
    await dropSchema(schema);
  });
  const ran: string[] = [];
  const welcome = reseolio.durable('engine-tx:welcome', async (userId: string) => {
    ran.push(userId);
    return `sent to ${userId}`;
  });
  await reseolio.start();
  await adminQuery(`CREATE TABLE "${schema}".users (id text PRIMARY KEY)`);
  const db = drizzle(pool);

  const rollback = new Error('rolled back on purpose');
  let rolledBackId = '';
  await expect(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO "${schema}".users (id) VALUES ('u1')`);
      rolledBackId = (await welcome.enqueue(['u1'], { transaction: tx })).jobId;
      throw rollback;
    }),
  ).rejects.toBe(rollback);

  const handle = await db.transaction(async (tx) => {
    await tx.execute(`INSERT INTO "${schema}".users (id) VALUES ('u2')`);
    return welcome.enqueue(['u2'], { transaction: tx });
  });
  // Polling is off (60 s): only the NOTIFY sent at commit can have woken the worker.
  expect(await handle.result(5_000)).toBe('sent to u2');
  expect(ran).toEqual(['u2']);
  expect(await storage.getJob(rolledBackId)).toBeUndefined();
});
