import type { Reseolio } from '../reseolio.ts';
import { IntegrationConfigError } from './integration-error.ts';

/** The members the integrations call; checked by shape, see {@link isReseolioEngine}. */
const ENGINE_METHODS = ['init', 'start', 'stop', 'durable', 'getHandle', 'listJobs', 'retryJob'];

/**
 * Whether `value` is a Reseolio engine. Checked by shape rather than `instanceof`: an app
 * that ends up with two copies of `reseolio` (two installs, a bundler that inlined one) makes
 * engines that are not `instanceof` the integration's copy, yet work the same, and refusing
 * them would hide the real cause behind "not an engine".
 */
export function isReseolioEngine(value: unknown): value is Reseolio {
  if (typeof value !== 'object' || value === null) return false;
  const engine = value as Record<string, unknown>;
  return (
    typeof engine.state === 'string' &&
    ENGINE_METHODS.every((method) => typeof engine[method] === 'function')
  );
}

/**
 * Throws `IntegrationConfigError` unless `value` is an engine.
 * @param what how the caller names the option, e.g. `'@reseolio/fastify option instance'`
 */
export function assertReseolioEngine(value: unknown, what: string): asserts value is Reseolio {
  if (!isReseolioEngine(value)) {
    throw new IntegrationConfigError(
      `${what} must be a Reseolio engine, created with new Reseolio({ ... }) from 'reseolio'.`,
    );
  }
}
