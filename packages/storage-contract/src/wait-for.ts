/**
 * Polls `predicate` until it holds or `timeoutMs` passes. Events arrive asynchronously (and, on
 * some adapters, over the network), so tests wait for a condition instead of sleeping a
 * fixed time: fast when delivery is fast, and failing with a message when it never comes.
 */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  { timeoutMs = 5_000, intervalMs = 5 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
