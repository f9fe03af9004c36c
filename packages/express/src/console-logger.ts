import type { Logger } from 'reseolio';

/**
 * Express has no logger of its own; like Express's own error handler, the package writes to
 * the console unless the app passes a logger (`reseolioRouter({ logger })`).
 */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, ...meta) => console.warn(`[@reseolio/express] ${message}`, ...meta),
  error: (message, ...meta) => console.error(`[@reseolio/express] ${message}`, ...meta),
};
