import { describe, expect, inject, it } from 'vitest';
import { runCrashDrill } from '../scripts/crash-drill.ts';

// The drill runs dist/main.js as a child process: `pnpm test` builds first (turbo), and so
// does `pnpm --filter demo-shop build && pnpm --filter demo-shop test`.
describe('crash drill (10 orders, SIGKILL mid-saga, restart)', () => {
  it('on SQLite: every order settles, compensated, with no double charge or email', async () => {
    const lines: string[] = [];
    const result = await runCrashDrill({ orders: 10, log: (line) => lines.push(line) });
    expect(result.violations, `${result.summary}\n${lines.join('\n')}`).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.inFlightAtKill).toBeGreaterThan(0);
    expect(result.resumedSagas).toBeGreaterThan(0);
    expect(result.audit?.orders.total).toBe(10);
  });

  it('on PostgreSQL: every order settles, compensated, with no double charge or email', async () => {
    const lines: string[] = [];
    const result = await runCrashDrill({
      orders: 10,
      databaseUrl: inject('databaseUrl'),
      log: (line) => lines.push(line),
    });
    expect(result.violations, `${result.summary}\n${lines.join('\n')}`).toEqual([]);
    expect(result.inFlightAtKill).toBeGreaterThan(0);
    expect(result.resumedSagas).toBeGreaterThan(0);
    expect(result.audit?.orders.total).toBe(10);
  });
});
