/**
 * The query keys of a job filter, in the order the page's form shows them. Shared by the
 * server (which refuses any other key, so a typo never widens a bulk action) and the page
 * (which carries them in its URL): one list, so the two cannot drift apart.
 */
export const FILTER_KEYS = [
  'status',
  'name',
  'idempotencyKey',
  'scheduleId',
  'parentId',
  'createdAfter',
  'createdBefore',
] as const;

export type FilterKey = (typeof FILTER_KEYS)[number];
