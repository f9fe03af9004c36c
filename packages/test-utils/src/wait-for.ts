/**
 * Polls `check` until it returns a truthy value, and resolves that value; rejects after
 * `timeoutMs`. Tests wait for a condition instead of sleeping a fixed time: fast when the
 * system is fast, and a clear failure when the condition never comes.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
