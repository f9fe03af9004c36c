export {
  ADMIN,
  adminOnly,
  FailingStorage,
  gate,
  logged,
  request,
  UNSERVED_UNDER_PREFIX,
  UNSERVED_UNDER_SCHEDULE_PREFIX,
} from './fixtures.ts';
export type {
  BootApp,
  BootedApp,
  BootOptions,
  DashboardBoot,
  HttpConformanceOptions,
  LogRecord,
} from './harness.ts';
export { runHttpConformance, type SuiteContext } from './run-http-conformance.ts';
