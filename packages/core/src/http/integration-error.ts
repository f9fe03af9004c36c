import { ReseolioValidationError } from '../errors.ts';

/**
 * A framework integration (`@reseolio/fastify`, `@reseolio/express`, `@reseolio/nestjs`) was
 * given options it cannot use: a missing or foreign engine, an unknown or malformed option,
 * a deprecated name beside its replacement, job routes without `authorize` or `public: true`.
 * Thrown when the plugin, module, middleware, router or shutdown helper is set up, never
 * while serving requests, and the message names the option and what to pass instead.
 *
 * It is a `ReseolioValidationError` with code `RESEOLIO_INVALID_OPTION`, so existing
 * `instanceof ReseolioValidationError` and `err.code` checks keep matching.
 */
export class IntegrationConfigError extends ReseolioValidationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'RESEOLIO_INVALID_OPTION', options);
  }
}
