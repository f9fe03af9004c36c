import { Logger } from '@nestjs/common';
import type { Logger as ReseolioLogger } from 'reseolio';
import { RESEOLIO_LOGGER_CONTEXT } from './reseolio.constants.ts';

/**
 * Routes the engine's logs through Nest's `Logger`, so they follow the app's logger
 * (`app.useLogger()`), levels and format. Errors are passed as their stack: Nest's console
 * logger prints a string stack but not an `Error` object's.
 * @deprecated Nest's `Logger` and `ConsoleLogger` fit the engine's `logger` option as they
 *   are (`logger: new Logger('Jobs')`), and name the job in every line about one; the module
 *   uses `new Logger('Reseolio')` by default.
 */
export class NestLoggerAdapter implements ReseolioLogger {
  readonly #logger: Logger;

  constructor(context: string = RESEOLIO_LOGGER_CONTEXT) {
    this.#logger = new Logger(context);
  }

  debug(message: string, ...meta: unknown[]): void {
    this.#logger.debug(withMeta(message, meta));
  }

  info(message: string, ...meta: unknown[]): void {
    this.#logger.log(withMeta(message, meta));
  }

  warn(message: string, ...meta: unknown[]): void {
    this.#logger.warn(withMeta(message, meta));
  }

  error(message: string, ...meta: unknown[]): void {
    const error = meta.find((item): item is Error => item instanceof Error);
    const rest = meta.filter((item) => item !== error);
    this.#logger.error(withMeta(message, rest), error?.stack);
  }
}

function withMeta(message: string, meta: unknown[]): string {
  const parts = meta.filter((item) => item !== undefined).map(format);
  return parts.length === 0 ? message : `${message} ${parts.join(' ')}`;
}

function format(item: unknown): string {
  if (item instanceof Error) return `${item.name}: ${item.message}`;
  if (typeof item === 'string') return item;
  try {
    return JSON.stringify(item);
  } catch {
    return String(item);
  }
}
