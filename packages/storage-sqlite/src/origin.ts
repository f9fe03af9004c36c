import { randomInt } from 'node:crypto';

/**
 * Who wrote an outbox row: one random number per loaded copy of this module. Every adapter of
 * one copy shares the in-process announcements (notifier.ts), so its readers skip rows of their
 * own origin, which their listeners heard already, with the outcome.
 * @internal
 */
export const ORIGIN = randomInt(2 ** 48 - 1);
