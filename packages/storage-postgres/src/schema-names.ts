/** Double-quotes an identifier for SQL text (identifiers cannot be bound as parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQL names derived from the configured schema; built once per adapter. */
export interface SchemaNames {
  /** The schema name as configured (unquoted). */
  readonly schema: string;
  /** `"schema"."jobs"`, ready to splice into SQL text. */
  readonly jobs: string;
  /** `"schema"."schedules"`. */
  readonly schedules: string;
  /** `"schema"."steps"`. */
  readonly steps: string;
  /** `"schema"."signals"`. */
  readonly signals: string;
  /** `"schema"."attempts"`. */
  readonly attempts: string;
  /** `"schema"."__reseolio_migrations"`: ours, never the host app's drizzle table. */
  readonly migrations: string;
  /** The LISTEN/NOTIFY channel (unquoted; passed to pg_notify as a parameter). */
  readonly channel: string;
}

export const MIGRATIONS_TABLE = '__reseolio_migrations';

export function schemaNames(schema: string): SchemaNames {
  return {
    schema,
    jobs: `${quoteIdent(schema)}.${quoteIdent('jobs')}`,
    schedules: `${quoteIdent(schema)}.${quoteIdent('schedules')}`,
    steps: `${quoteIdent(schema)}.${quoteIdent('steps')}`,
    signals: `${quoteIdent(schema)}.${quoteIdent('signals')}`,
    attempts: `${quoteIdent(schema)}.${quoteIdent('attempts')}`,
    migrations: `${quoteIdent(schema)}.${quoteIdent(MIGRATIONS_TABLE)}`,
    // One channel per schema, so two Reseolio installs in one database do not wake each other.
    channel: `reseolio:${schema}`,
  };
}
