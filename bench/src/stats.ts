/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Milliseconds since an arbitrary origin, with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true or `capMs` has passed; returns whether it became true. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  capMs: number,
  everyMs = 2,
): Promise<boolean> {
  const deadline = nowMs() + capMs;
  while (nowMs() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}
