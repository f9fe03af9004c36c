/** Option validation of createPostgresStorage: refused with a StorageConfigError saying what to pass. */

import { randomUUID } from 'node:crypto';
import { StorageConfigError } from 'reseolio';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createPostgresStorage, type PostgresStorageOptions } from '../src/index.ts';
import { databaseUrl, dropSchema, schemaFor } from './helpers.ts';

function configErrorOf(options: PostgresStorageOptions): StorageConfigError {
  try {
    createPostgresStorage(options);
  } catch (error) {
    expect(error).toBeInstanceOf(StorageConfigError);
    return error as StorageConfigError;
  }
  throw new Error('expected a StorageConfigError, got none');
}

describe('schema', () => {
  it("refuses the application's and PostgreSQL's own schemas, saying why and what to pass", () => {
    for (const schema of ['public', 'information_schema', 'pg_catalog', 'pg_toast', 'pg_jobs']) {
      const error = configErrorOf({ connectionString: databaseUrl(), schema });
      expect(error.message).toContain(`cannot be "${schema}"`);
      expect(error.message).toContain('Reseolio owns its schema');
      expect(error.message).toContain("Leave `schema` out for 'reseolio'");
    }
  });

  it('echoes an invalid schema name shortened', () => {
    const error = configErrorOf({ connectionString: databaseUrl(), schema: 'S'.repeat(10_000) });
    expect(error.message).toContain('(10000 characters)');
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('connectionString', () => {
  it('accepts the scheme in any case, as the core routes it (RFC 3986)', async ({ task }) => {
    const schema = schemaFor('options.test', task.name);
    await dropSchema(schema);
    onTestFinished(() => dropSchema(schema));
    const url = databaseUrl().replace(/^postgres(ql)?:/i, (scheme) => scheme.toUpperCase());
    expect(url).toMatch(/^POSTGRES(QL)?:\/\//);
    const storage = createPostgresStorage({ connectionString: url, schema, poolSize: 2 });
    onTestFinished(() => storage.close());
    await storage.init();
    const id = randomUUID();
    await storage.enqueue({
      id,
      name: 'options:upper',
      args: '[]',
      policy: '{}',
      maxAttempts: 1,
      idempotencyKey: null,
      parentId: null,
      scheduleId: null,
      priority: 0,
      concurrencyKey: null,
      rateLimitKey: null,
      traceContext: null,
      createdAt: 1_700_000_000_000,
      runAt: 1_700_000_000_000,
    });
    expect((await storage.getJob(id))?.name).toBe('options:upper');
  });

  it('names the wrong scheme without echoing the rest of the URL', () => {
    const error = configErrorOf({ connectionString: 'mysql://root:hunter2@db/app' });
    expect(error.message).toContain('the scheme "mysql:"');
    expect(error.message).not.toContain('hunter2');
    expect(configErrorOf({ connectionString: 'root:hunter2@db/app' }).message).not.toContain(
      'hunter2',
    );
  });
});

describe('durations and undefined', () => {
  it('bounds connectionRetryMs and names the value', () => {
    const error = configErrorOf({ connectionString: databaseUrl(), connectionRetryMs: 2 ** 31 });
    expect(error.message).toContain('from 0 to 2147483647 milliseconds, got 2147483648');
  });

  it('treats an explicit undefined as a left-out option', async () => {
    const storage = createPostgresStorage({
      connectionString: databaseUrl(),
      pool: undefined,
      schema: undefined,
      poolSize: undefined,
      listen: undefined,
      migrate: undefined,
      preparedStatements: undefined,
      connectionRetryMs: undefined,
    });
    expect(storage.schema).toBe('reseolio');
    expect(storage.capabilities.crossProcessNotify).toBe(true);
    await storage.close();
  });
});
