import type { EngineLogger } from '../logging/engine-logger.ts';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Opt-in (`handleSignals: true`): on SIGTERM/SIGINT, stop gracefully, then exit with the
 * conventional 128 + signal number. A second signal while stopping exits at once.
 * Returns a function that removes the handlers.
 */
export function installSignalHandlers(stop: () => Promise<void>, logger: EngineLogger): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
    stopping = true;
    logger.info(`received ${signal}: draining jobs before exit`);
    stop().then(
      () => process.exit(signal === 'SIGINT' ? 130 : 143),
      (error) => {
        logger.error('graceful stop failed', error);
        process.exit(1);
      },
    );
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
}
