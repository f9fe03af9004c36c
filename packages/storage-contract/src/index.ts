export { type EventLog, recordEvents } from './event-log.ts';
export * from './fixtures.ts';
export { compareWithReference, type ReferenceScenario, random } from './flow-reference.ts';
export type {
  ContractContext,
  HarnessSetup,
  StorageContractOptions,
  StorageHarness,
} from './harness.ts';
export { runStorageContract } from './run-storage-contract.ts';
