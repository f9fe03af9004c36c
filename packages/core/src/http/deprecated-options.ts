import { IntegrationConfigError } from './integration-error.ts';

/** The framework packages that share this kit. */
export type IntegrationName = '@reseolio/fastify' | '@reseolio/express' | '@reseolio/nestjs';

/**
 * Option names the integrations used before they shared one set (0.2). Each still works where
 * it used to, mapped to its replacement with a `DeprecationWarning`; they will be removed
 * before 1.0. This table is the only place that knows them.
 */
export const DEPRECATED_OPTIONS: readonly {
  integration: IntegrationName;
  name: string;
  replacement: string;
}[] = Object.freeze([
  { integration: '@reseolio/fastify', name: 'closeInstance', replacement: 'stopInstance' },
  { integration: '@reseolio/nestjs', name: 'drainTimeoutMs', replacement: 'stopTimeoutMs' },
  { integration: '@reseolio/express', name: 'timeoutMs', replacement: 'stopTimeoutMs' },
]);

/**
 * Returns `options` with the deprecated names of `integration` moved to their replacements,
 * emitting one `DeprecationWarning` (code `RESEOLIO_DEP_<NAME>`) per name used. A deprecated
 * name set to `undefined` is dropped, like any option left out. Both names at once is an
 * error: which one was meant cannot be known.
 * @param where how the caller names the options in messages, e.g. `'attachShutdown options'`
 */
export function renameDeprecatedOptions(
  options: Record<string, unknown>,
  integration: IntegrationName,
  where: string,
): Record<string, unknown> {
  let renamed = options;
  for (const { integration: owner, name, replacement } of DEPRECATED_OPTIONS) {
    if (owner !== integration || !(name in renamed)) continue;
    const { [name]: value, ...rest } = renamed;
    renamed = rest;
    if (value === undefined) continue;
    if (rest[replacement] !== undefined) {
      throw new IntegrationConfigError(
        `${where}: give ${replacement} only; ${name} is its deprecated name.`,
      );
    }
    renamed[replacement] = value;
    process.emitWarning(
      `${integration}: the option ${name} is deprecated and will be removed before 1.0; ` +
        `rename it to ${replacement} (same meaning).`,
      { type: 'DeprecationWarning', code: `RESEOLIO_DEP_${snakeCase(name)}` },
    );
  }
  return renamed;
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase();
}
