import type { Reseolio } from 'reseolio';
import { EngineLifecycle, IntegrationConfigError } from 'reseolio/http';
import { optionsFrom, resolveShutdownOptions } from './options.ts';
import type { ClosableServer, ShutdownController, ShutdownOptions } from './types.ts';

/**
 * Graceful shutdown for an Express app, which has no close hook of its own. On one of
 * `signals` (or `shutdown()`): stop accepting connections, drain running jobs if
 * `stopInstance` says so (`engine.stop`, which closes the storage the engine opened last),
 * wait for the server to finish its requests, then call `onShutdown` or exit. Returns a
 * function that removes the signal listeners.
 */
export function attachShutdown(
  server: ClosableServer,
  options: ShutdownOptions,
): ShutdownController;
/**
 * @deprecated pass the engine as an option:
 * `attachShutdown(server, { instance: reseolio, stopInstance: true, ... })`. This form always
 * stops the engine, and its `timeoutMs` is `stopTimeoutMs`.
 */
export function attachShutdown(
  server: ClosableServer,
  engine: Reseolio,
  options?: Omit<ShutdownOptions, 'instance' | 'stopInstance'> & {
    /** @deprecated renamed `stopTimeoutMs` */
    timeoutMs?: number | undefined;
  },
): ShutdownController;
export function attachShutdown(
  server: ClosableServer,
  first: unknown,
  second?: unknown,
): ShutdownController {
  if (typeof server?.close !== 'function') {
    throw new IntegrationConfigError(
      'attachShutdown needs the server returned by app.listen() as first argument.',
    );
  }
  const { binding, signals, onShutdown } = resolveShutdownOptions(
    optionsFrom(first, second, 'attachShutdown', { stopInstance: true }),
  );
  const lifecycle = new EngineLifecycle(binding.source.instance, binding);
  const timeoutMs = binding.stopTimeoutMs;

  let running: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    shutdown(signal).catch((error: unknown) => {
      console.error('[@reseolio/express] shutdown failed', error);
      process.exit(1);
    });
  };
  const detach = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  const shutdown = (signal?: NodeJS.Signals): Promise<void> => {
    running ??= run(signal);
    return running;
  };

  async function run(signal: NodeJS.Signals | undefined): Promise<void> {
    // Listeners go first: a second signal then gets Node's default behaviour and kills the
    // process, the usual escape hatch when a drain takes too long.
    detach();
    const serverClosed = closeServer(server, timeoutMs);
    let error: unknown;
    try {
      // With stopInstance: stops claiming, lets running jobs finish up to the deadline and
      // hands the rest back (attempt not consumed), then closes owned storage. Requests still
      // in flight can keep enqueueing until then; long-polling /result requests answer 503
      // when it ends.
      await lifecycle.stop();
    } catch (stopError) {
      error = stopError;
    }
    try {
      await serverClosed;
    } catch (closeError) {
      error ??= closeError;
    }
    if (onShutdown) await onShutdown({ signal, error });
    else process.exit(error === undefined ? 0 : 1);
  }

  for (const signal of signals) process.on(signal, onSignal);
  return Object.assign(detach, { shutdown });
}

/**
 * `server.close()` stops accepting connections and resolves once open ones are done. Idle
 * keep-alive connections are closed at once; connections still busy after `timeoutMs` are
 * cut so a stuck client cannot hold the process forever.
 */
function closeServer(server: ClosableServer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections?.(), timeoutMs);
    server.close((error) => {
      clearTimeout(timer);
      // Already closed by someone else: what we wanted anyway.
      if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') {
        reject(error);
      } else {
        resolve();
      }
    });
    server.closeIdleConnections?.();
  });
}
