import { describe, it } from 'vitest';
import type { ContractContext, StorageContractOptions } from './harness.ts';
import { ackSuite } from './suites/ack.ts';
import { attemptsSuite } from './suites/attempts.ts';
import { batchSuite } from './suites/batch.ts';
import { cancelRetrySuite } from './suites/cancel-retry.ts';
import { claimSuite } from './suites/claim.ts';
import { concurrencySuite } from './suites/concurrency.ts';
import { enqueueSuite } from './suites/enqueue.ts';
import { eventsSuite } from './suites/events.ts';
import { flowSuite } from './suites/flow.ts';
import { leaseSuite } from './suites/lease.ts';
import { leasedEnqueueSuite } from './suites/leased-enqueue.ts';
import { lifecycleSuite } from './suites/lifecycle.ts';
import { listingSuite } from './suites/listing.ts';
import { progressSuite } from './suites/progress.ts';
import { purgeSuite } from './suites/purge.ts';
import { queriesSuite } from './suites/queries.ts';
import { schedulesSuite } from './suites/schedules.ts';
import { statsSuite } from './suites/stats.ts';
import { traceContextSuite } from './suites/trace-context.ts';
import { workflowsSuite } from './suites/workflows.ts';

const SUITES = [
  lifecycleSuite,
  enqueueSuite,
  claimSuite,
  flowSuite,
  concurrencySuite,
  leaseSuite,
  leasedEnqueueSuite,
  ackSuite,
  cancelRetrySuite,
  queriesSuite,
  listingSuite,
  attemptsSuite,
  purgeSuite,
  eventsSuite,
  progressSuite,
  batchSuite,
  schedulesSuite,
  workflowsSuite,
  traceContextSuite,
  statsSuite,
];

/**
 * Registers the whole storage contract for one adapter. Call it at the top level of a test
 * file; every test builds and tears down its own harness through `setup`.
 */
export function runStorageContract({ name, setup, skip = {} }: StorageContractOptions): void {
  // vitest awaits async describe factories during collection, which lets the suites gate on
  // real capabilities with a visible `describe.skipIf` instead of skipping silently at run time.
  describe(`storage contract: ${name}`, async () => {
    const probe = await setup('capabilities probe');
    const capabilities = { ...probe.storage.capabilities };
    await probe.teardown();

    const names = new Set<string>();
    const context: ContractContext = {
      capabilities,
      test(testName, body) {
        // Names key the per-test namespace (and the `skip` map), so they must be unique.
        if (names.has(testName)) throw new Error(`duplicate contract test name: ${testName}`);
        names.add(testName);
        const reason = skip[testName];
        if (reason !== undefined) {
          // An adapter's declared exception (`skip` option): shown as skipped, with its reason
          // in the name, never silently dropped. No adapter in this repository uses one.
          it.skip(`${testName} [skipped: ${reason}]`, () => {});
          return;
        }
        it(testName, async () => {
          const harness = await setup(testName);
          try {
            await body(harness);
          } finally {
            await harness.teardown();
          }
        });
      },
    };

    for (const suite of SUITES) suite(context);

    const unknown = Object.keys(skip).filter((testName) => !names.has(testName));
    if (unknown.length > 0) {
      throw new Error(`skip lists tests that do not exist: ${unknown.join('; ')}`);
    }
  });
}
