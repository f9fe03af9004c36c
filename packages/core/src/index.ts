export * from './errors.ts';
export type * from './storage/records.ts';
export { FINAL_STATUSES } from './storage/records.ts';
export type * from './storage/storage.ts';
