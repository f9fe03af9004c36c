export interface WaitForOptions {
  /** How long the condition may take, in milliseconds. @default 20000 */
  timeoutMs?: number;
  /**
   * What is awaited, for the error when it never comes: a text, or a function read at the
   * timeout (so it can show the state then, such as the events seen so far).
   */
  what?: string | (() => string);
}

/**
 * Polls `check` until it returns a truthy value, and resolves that value; rejects after
 * `timeoutMs`. Tests wait for a condition instead of sleeping a fixed time: fast when the
 * system is fast, and a clear failure when the condition never comes. An error thrown by
 * `check` rejects at once (a child process that exited, say).
 *
 * The second argument is the options, or the timeout alone: `waitFor(check, 60_000)`.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForOptions | number = {},
): Promise<T> {
  const { timeoutMs = 20_000, what } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const awaited = typeof what === 'function' ? what() : (what ?? 'the condition');
      throw new Error(`waitFor: timed out after ${timeoutMs} ms waiting for ${awaited}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
