/**
 * Which errors mean "the connection went away" rather than "the statement is wrong". Those are
 * worth re-sending on a fresh connection: acks are fenced on (id, lease token, running), and
 * the sweep is a set operation. Claims and heartbeats are not re-sent: their lease times would
 * be stale (see `PostgresStorage.claim`).
 */

const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

// Class 57P: operator intervention (admin shutdown, crash shutdown, cannot connect now).
const OPERATOR_CODES = new Set(['57P01', '57P02', '57P03']);

// node-postgres reports a socket that closed under a query without any code.
const DRIVER_MESSAGES = [
  'Connection terminated',
  'connection error',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
];

export function isConnectionError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NODE_NETWORK_CODES.has(code) || OPERATOR_CODES.has(code)) return true;
    // Class 08: connection exception.
    if (code.startsWith('08')) return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m));
}

const FIRST_DELAY_MS = 25;
const MAX_DELAY_MS = 1_000;

/**
 * Runs `operation`, re-running it after connection errors with capped exponential backoff
 * until the sleeps add up to `budgetMs`; then the last error is thrown. `retrying` tells the
 * operation that an earlier try may have committed before its reply was lost. The budget is a
 * sum of sleeps, not a clock reading, so storage stays free of clock reads.
 */
export async function retryOnConnectionError<T>(
  operation: (retrying: boolean) => Promise<T>,
  budgetMs: number,
): Promise<T> {
  let slept = 0;
  let delay = FIRST_DELAY_MS;
  let retrying = false;
  for (;;) {
    try {
      return await operation(retrying);
    } catch (err) {
      if (!isConnectionError(err) || slept >= budgetMs) throw err;
      const wait = Math.min(delay, budgetMs - slept);
      await new Promise((resolve) => setTimeout(resolve, wait));
      slept += wait;
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      retrying = true;
    }
  }
}
