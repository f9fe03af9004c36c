import type { StorageAdapter } from 'reseolio';
import { describe } from 'vitest';
import { serve } from './fixtures.ts';
import type { BootOptions, HttpConformanceOptions } from './harness.ts';
import { actionsSuite } from './suites/actions.ts';
import { authorizationSuite } from './suites/authorization.ts';
import { dashboardSuite } from './suites/dashboard.ts';
import { errorsSuite } from './suites/errors.ts';
import { metricsSuite } from './suites/metrics.ts';
import { mountingSuite } from './suites/mounting.ts';
import { readsSuite } from './suites/reads.ts';
import { schedulesSuite } from './suites/schedules.ts';
import { signalsSuite } from './suites/signals.ts';

/** What every suite file receives. */
export interface SuiteContext {
  /** Boots the framework's app with the job and schedule routes for the current test; closed after it. */
  serve(
    routes: BootOptions['routes'],
    options?: {
      prefix?: string;
      schedulePrefix?: string;
      storage?: StorageAdapter | string;
      metrics?: BootOptions['metrics'];
      dashboard?: BootOptions['dashboard'];
    },
  ): ReturnType<typeof serve>;
}

const SUITES = [
  authorizationSuite,
  readsSuite,
  actionsSuite,
  errorsSuite,
  mountingSuite,
  metricsSuite,
  dashboardSuite,
  schedulesSuite,
  signalsSuite,
];

/**
 * Registers the job, schedule and metrics routes' and the dashboard's conformance suite for one framework. Call it at the top level of
 * a test file with a factory that boots a real app of that framework on the given port; every
 * test boots its own app and engine, and answers must be identical across frameworks.
 */
export function runHttpConformance({ name, boot }: HttpConformanceOptions): void {
  describe(`HTTP conformance: ${name}`, () => {
    const context: SuiteContext = { serve: (routes, options) => serve(boot, routes, options) };
    for (const suite of SUITES) suite(context);
  });
}
