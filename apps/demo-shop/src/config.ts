import { resolve } from 'node:path';
import { DEFAULT_FAULTS, type Faults, parseFaults } from './services/faults.ts';

/** Everything the shop reads from its environment, resolved once at start. */
export interface ShopConfig {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  host: string;
  /** `postgres://…` to run on PostgreSQL; otherwise the SQLite file below is used. */
  databaseUrl: string | undefined;
  /** SQLite database file, shared by the shop's tables and Reseolio's jobs. */
  sqliteFile: string;
  /** Reseolio lease; the crash drill shortens it so a killed process's jobs come back fast. */
  leaseMs: number;
  workerConcurrency: number;
  /** Secret the webhook sender signs with and the receiver verifies. */
  webhookSecret: string;
  /**
   * How long a fulfilled order's delivery workflow waits for the customer's "Confirm delivery"
   * before it confirms by itself (`DELIVERY_AUTO_CONFIRM_MS`, 2 minutes: long enough to click,
   * short enough to watch it happen).
   */
  deliveryAutoConfirmMs: number;
  /** Initial failure rates and latency of the fake external services (changeable at runtime). */
  faults: Faults;
}

/** Reads the shop's configuration from `env` (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ShopConfig {
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(`DATABASE_URL must be a postgres:// URL, got "${databaseUrl}".`);
  }
  return {
    port: integer(env, 'PORT', 3000),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    sqliteFile: resolve(env.SQLITE_FILE || './demo-shop.db'),
    leaseMs: integer(env, 'LEASE_MS', 30_000),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 10),
    webhookSecret: env.WEBHOOK_SECRET || 'demo-shop-webhook-secret',
    deliveryAutoConfirmMs: integer(env, 'DELIVERY_AUTO_CONFIRM_MS', 120_000, MAX_TIMER_MS),
    faults: env.SHOP_FAULTS ? parseFaults(JSON.parse(env.SHOP_FAULTS)) : { ...DEFAULT_FAULTS },
  };
}

/** The longest timer Node (and so `waitForSignal`'s `timeoutMs`) takes: about 24.8 days. */
const MAX_TIMER_MS = 2_147_483_647;

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    const bound = max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : '';
    throw new Error(`${name} must be a non-negative integer${bound}, got "${raw}".`);
  }
  return value;
}
