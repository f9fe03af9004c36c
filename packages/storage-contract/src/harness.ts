import type { StorageAdapter, StorageCapabilities } from 'reseolio/storage';

/** One isolated storage for one contract test. */
export interface StorageHarness {
  /** Fresh and isolated (its own file, its own PG schema…) and already `init()`ed. */
  storage: StorageAdapter;
  /**
   * Opens another adapter instance on the SAME database (separate connection/handle),
   * `init()`ed; used for concurrent-claimer and cross-instance tests. Closed by teardown.
   */
  openAnother(): Promise<StorageAdapter>;
  /** Closes `storage` and every instance `openAnother()` made, then drops the isolated data. */
  teardown(): Promise<void>;
}

/**
 * Makes the harness for one test. `testName` is unique within the suite, so an adapter may
 * derive its namespace from it (a PG schema from its hash, a file name…).
 *
 * It is also called once while tests are being collected, with the name
 * `'capabilities probe'`, to read `storage.capabilities` for the `skipIf` gates: it must work
 * outside `beforeAll` hooks (start shared servers in vitest's `globalSetup`).
 */
export type HarnessSetup = (testName: string) => Promise<StorageHarness>;

export interface StorageContractOptions {
  /** Shown as the top-level `describe`, e.g. `'sqlite (file)'`. */
  name: string;
  setup: HarnessSetup;
  /**
   * Test name → why it is skipped for this adapter. The test still shows as skipped with its
   * reason; a name that matches no test is an error, so typos cannot hide tests.
   */
  skip?: Record<string, string>;
}

/** What every suite file receives. */
export interface ContractContext {
  /** Read once from a probe harness; gates suites with `describe.skipIf`. */
  readonly capabilities: StorageCapabilities;
  /**
   * Registers one test: it builds its own harness with `setup(name)`, runs `body`, and always
   * tears the harness down. No state is shared between tests.
   */
  test(name: string, body: (harness: StorageHarness) => Promise<void>): void;
}
