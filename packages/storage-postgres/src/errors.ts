import { ReseolioError } from 'reseolio';

/**
 * A PostgreSQL error that is not a connection failure (or a connection failure that outlasted
 * `connectionRetryMs`). The driver's error is the `cause`; its SQLSTATE is in `sqlState`.
 */
export class PostgresStorageError extends ReseolioError {
  /** The driver's SQLSTATE (`23505`, `42P01`…) or Node error code, when there was one. */
  readonly sqlState: string | undefined;

  constructor(operation: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('RESEOLIO_STORAGE_POSTGRES', `PostgreSQL storage: ${operation} failed: ${detail}`, {
      cause,
    });
    const code = (cause as { code?: unknown } | null)?.code;
    this.sqlState = typeof code === 'string' ? code : undefined;
  }
}
