import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * How often the open view re-reads its data: every 2 seconds. Short polling rather than
 * server-sent events because it works through every mount and proxy unchanged (compression
 * middleware and proxies buffer event streams; idle timeouts cut them), `authorize` runs on
 * every read so a revoked session stops at once, no connection is held per open tab, and each
 * read is one or a few indexed queries. A hidden tab does not poll.
 */
export const POLL_MS = 2000;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Re-read now (after an action), without waiting for the next tick. */
  refresh: () => void;
  /** When the shown data was read. */
  updatedAt: number | undefined;
}

/** Reads `load()` now and every {@link POLL_MS} while the tab is visible; `key` restarts it. */
export function usePoll<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Polled<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; updatedAt?: number; key: string }>({
    key,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const refresh = useCallback(() => setTick((n) => n + 1), []);

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const run = async () => {
      if (document.hidden) {
        schedule();
        return;
      }
      try {
        const data = await loadRef.current(controller.signal);
        if (!stopped) setState({ data, error: undefined, updatedAt: Date.now(), key });
      } catch (error) {
        if (stopped) return;
        setState((previous) => ({
          ...(previous.key === key ? previous : {}),
          key,
          error: error instanceof Error ? error : new Error(String(error)),
        }));
      }
      schedule();
    };
    const schedule = () => {
      if (!stopped) timer = setTimeout(run, POLL_MS);
    };
    const onVisible = () => {
      if (!document.hidden) {
        clearTimeout(timer);
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [key, tick]);

  // Data of another key (the previous job) is never shown for this one.
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    updatedAt: current ? state.updatedAt : undefined,
    refresh,
  };
}
