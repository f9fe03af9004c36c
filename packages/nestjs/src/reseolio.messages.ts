/** Every user-facing string of the module; each one says what to do next. */

import { describeValue } from 'reseolio';

export const DUPLICATE_DURABLE = (name: string, first: string, second: string) =>
  `@Durable() name "${name}" is used by both ${first} and ${second}. Names identify jobs across ` +
  `deploys, so each method needs its own: pass one explicitly, e.g. @Durable('${name}-2').`;

export const DURABLE_NAME_TAKEN = (name: string, method: string) =>
  `@Durable() name "${name}" of ${method} is already registered on the Reseolio engine (by code ` +
  'outside Nest, on a borrowed instance). Give the method another name.';

export const INVALID_DURABLE = (method: string, reason: string) =>
  `Cannot register ${method} as a durable function: ${reason} ` +
  `Give it an explicit name, e.g. @Durable('orders:charge').`;

export const NON_STATIC_PROVIDER = (className: string) =>
  `Cannot register @Durable() methods of "${className}": it is request-scoped or transient, or ` +
  'depends on such a provider, and a job runs outside any request. Move the methods to a ' +
  'singleton (default-scoped) provider.';

export const NOT_A_DURABLE_PROVIDER = (what: string) =>
  `${what} has no registered @Durable() methods. Pass the injected provider instance ` +
  '(e.g. this.payments), after the application has initialized.';

export const NOT_A_DURABLE_METHOD = (className: string, method: string) =>
  `${className}.${method} is not a @Durable() method, so it has no job handle. Decorate it ` +
  'with @Durable() or call it directly.';

export const INSTANCE_WITH_ENGINE_OPTIONS = (keys: string[]) =>
  `ReseolioModule options take either { instance } or engine options, not both (got ` +
  `${keys.join(', ')} beside instance). Configure the borrowed engine where you create it.`;

export const NOT_AN_ENGINE = (value: unknown) =>
  `ReseolioModule option "instance" must be a Reseolio engine, got ${describe(value)}.`;

export const MISSING_ASYNC_FACTORY = () =>
  'ReseolioModule.forRootAsync() needs one of useFactory, useClass or useExisting.';

export const SHUTDOWN_FAILED = 'Stopping the Reseolio engine failed';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

export const INVALID_DRAIN_TIMEOUT = (value: unknown) =>
  'ReseolioModule option "drainTimeoutMs" takes an integer from 0 to 2147483647 (milliseconds, ' +
  `about 24.8 days: the longest a Node.js timer waits), got ${describeValue(value)}.`;
