import { createRequire } from 'node:module';

/**
 * This package's version, for the tracer and meter `reseolio` (instrumentation scope
 * version). Read from package.json, which sits two folders up from both `src/telemetry` and
 * `dist/telemetry`; undefined if a bundler moved it away.
 */
export const PACKAGE_VERSION: string | undefined = (() => {
  try {
    const manifest = createRequire(import.meta.url)('../../package.json') as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
})();

/** The instrumentation scope of Reseolio's spans and metrics. */
export const INSTRUMENTATION_NAME = 'reseolio';
