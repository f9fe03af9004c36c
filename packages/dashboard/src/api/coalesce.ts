/**
 * Shares one read among the callers of the next `maxAgeMs` milliseconds, and among concurrent
 * callers while it runs. A failed read is not kept: the next caller tries again.
 */
export function coalesce<T>(maxAgeMs: number, read: () => Promise<T>): () => Promise<T> {
  let current: { promise: Promise<T>; settledAt: number | null } | undefined;
  return () => {
    const now = Date.now();
    if (current !== undefined) {
      const { settledAt } = current;
      if (settledAt === null || now - settledAt < maxAgeMs) return current.promise;
    }
    const entry: { promise: Promise<T>; settledAt: number | null } = {
      promise: read(),
      settledAt: null,
    };
    current = entry;
    entry.promise.then(
      () => {
        entry.settledAt = Date.now();
      },
      () => {
        if (current === entry) current = undefined;
      },
    );
    return entry.promise;
  };
}
