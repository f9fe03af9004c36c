export { CHROMIUM_LAUNCH, CHROMIUM_PATH, noChromium } from './chromium.ts';
export { freePort } from './free-port.ts';
export {
  DEFAULT_SETTINGS as PRIVATE_POSTGRES_SETTINGS,
  type PrivatePostgres,
  type PrivatePostgresOptions,
  startPrivatePostgres,
} from './private-postgres.ts';
export { type WaitForOptions, waitFor } from './wait-for.ts';
