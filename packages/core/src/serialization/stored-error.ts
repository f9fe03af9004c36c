import type { StoredError } from '../types.ts';

/** Errors as stored: what matters of an `Error` going in, and an `Error` rebuilt coming out. */

/** Keeps what matters of an error: name, message, code, stack and (recursively) cause. */
export function errorToStored(error: unknown, depth = 0): StoredError {
  if (!(error instanceof Error)) {
    return { name: 'NonError', message: typeof error === 'string' ? error : safeString(error) };
  }
  const stored: StoredError = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') stored.code = String(code);
  if (error.stack) stored.stack = error.stack;
  if (error.cause !== undefined && depth < 5) stored.cause = errorToStored(error.cause, depth + 1);
  return stored;
}

/**
 * Rebuilds an `Error` from its stored form (for events and `error` payload tags). Reads only
 * the stored object's own fields: a decoded `__proto__` key is data and supplies none.
 */
export function storedToError(stored: StoredError): Error {
  const own = (key: keyof StoredError): unknown =>
    Object.hasOwn(stored, key) ? stored[key] : undefined;
  const cause = own('cause');
  const error = new Error(
    String(own('message') ?? ''),
    typeof cause === 'object' && cause !== null
      ? { cause: storedToError(cause as StoredError) }
      : undefined,
  );
  error.name = String(own('name') ?? 'Error');
  const code = own('code');
  if (code !== undefined) (error as Error & { code?: string }).code = String(code);
  const stack = own('stack');
  if (typeof stack === 'string') error.stack = stack;
  return error;
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
