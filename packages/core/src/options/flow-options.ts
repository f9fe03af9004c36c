import { describeValue } from '../describe-value.ts';
import { ReseolioValidationError } from '../errors.ts';
import type { FlowRule } from '../storage/records.ts';
import type { CallOptions, DurableOptions } from '../types.ts';
import { MAX_TIMER_MS } from './bounds.ts';
import {
  assertKnownKeys,
  assertPlainObject,
  integer,
  invalid,
  isIntegerIn,
  storableKey,
} from './validators.ts';

/**
 * Flow control of a registration: its priority, and the concurrency and rate limits claims
 * enforce in storage. Keys are computed where the job is made (the enqueuing process runs the
 * key functions), so storage only compares strings.
 */

/** The int4 range both databases store a priority in. */
export const MIN_PRIORITY = -2_147_483_648;
export const MAX_PRIORITY = 2_147_483_647;
/** The largest concurrency or rate limit: beyond this a "limit" limits nothing. */
export const MAX_FLOW_LIMIT = 1_000_000;

type KeyFunction = (...args: unknown[]) => unknown;

/** A registration's flow settings, validated. */
export interface FlowSettings {
  priority: number;
  concurrency?: { limit: number; key?: KeyFunction | undefined } | undefined;
  rateLimit?: { limit: number; periodMs: number; key?: KeyFunction | undefined } | undefined;
}

/** The settings of a function this process did not register (`enqueue` by name). */
export const DEFAULT_FLOW: FlowSettings = Object.freeze({ priority: 0 });

export function validatePriority(value: unknown, where: string): number {
  if (!isIntegerIn(value, MIN_PRIORITY, MAX_PRIORITY)) {
    throw invalid(
      'priority',
      value,
      `an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first)`,
      where,
    );
  }
  return value;
}

/** Reads `priority`, `concurrency` and `rateLimit` of `durable()` options. */
export function resolveFlowSettings(options: DurableOptions | undefined): FlowSettings {
  if (options === undefined) return DEFAULT_FLOW;
  const where = 'durable() options';
  const { priority, concurrency, rateLimit } = options;
  const settings: FlowSettings = {
    priority: priority === undefined ? 0 : validatePriority(priority, where),
  };
  if (concurrency !== undefined) {
    if (typeof concurrency === 'number') {
      settings.concurrency = { limit: limitOf({ limit: concurrency }, 'concurrency', where) };
    } else {
      const what = `${where} "concurrency"`;
      if (concurrency === null || typeof concurrency !== 'object') {
        throw invalid(
          'concurrency',
          concurrency,
          `a number of running jobs (1 to ${MAX_FLOW_LIMIT}) or { limit, key? }`,
          where,
        );
      }
      assertPlainObject(concurrency, what);
      assertKnownKeys(
        concurrency as unknown as Record<string, unknown>,
        ['limit', 'key'],
        `${what} key`,
      );
      settings.concurrency = {
        limit: limitOf(concurrency, 'concurrency.limit', where),
        key: keyFunctionOf(concurrency.key, 'concurrency.key', where),
      };
    }
  }
  if (rateLimit !== undefined) {
    const what = `${where} "rateLimit"`;
    assertPlainObject(rateLimit, what);
    assertKnownKeys(
      rateLimit as unknown as Record<string, unknown>,
      ['limit', 'periodMs', 'key'],
      `${what} key`,
    );
    if (rateLimit.periodMs === undefined) {
      throw invalid(
        'rateLimit.periodMs',
        undefined,
        `an integer from 1 to ${MAX_TIMER_MS} milliseconds`,
        where,
      );
    }
    settings.rateLimit = {
      limit: limitOf(rateLimit, 'rateLimit.limit', where),
      periodMs: integer(rateLimit, 'periodMs', 0, 1, MAX_TIMER_MS, what, ' milliseconds'),
      key: keyFunctionOf(rateLimit.key, 'rateLimit.key', where),
    };
  }
  return settings;
}

function limitOf(options: { limit?: unknown }, label: string, where: string): number {
  const { limit } = options;
  if (!isIntegerIn(limit, 1, MAX_FLOW_LIMIT)) {
    throw invalid(label, limit, `an integer from 1 to ${MAX_FLOW_LIMIT}`, where);
  }
  return limit;
}

function keyFunctionOf(key: unknown, label: string, where: string): KeyFunction | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'function') {
    throw invalid(
      label,
      key,
      'a function of the job arguments returning its group, e.g. (customerId) => customerId',
      where,
    );
  }
  return key as KeyFunction;
}

/** The claim rule of a registration, or undefined when it has no limit. */
export function flowRuleOf(name: string, settings: FlowSettings): FlowRule | undefined {
  const { concurrency, rateLimit } = settings;
  if (concurrency === undefined && rateLimit === undefined) return undefined;
  return {
    name,
    concurrency: concurrency?.limit,
    rateLimit: rateLimit && { limit: rateLimit.limit, periodMs: rateLimit.periodMs },
  };
}

/** What one job stores for flow control. */
export interface JobFlowFields {
  priority: number;
  concurrencyKey: string | null;
  rateLimitKey: string | null;
}

/**
 * The flow fields of one call: the call's options (validated) over the registration's
 * settings; key functions run on the arguments. A key function that throws or returns
 * something other than a storable string refuses the call, before anything is stored.
 */
export function jobFlowFields(
  name: string,
  settings: FlowSettings,
  args: readonly unknown[],
  options: CallOptions,
): JobFlowFields {
  return {
    priority: options.priority ?? settings.priority,
    concurrencyKey:
      options.concurrencyKey ?? runKey(name, settings.concurrency?.key, 'concurrency.key', args),
    rateLimitKey:
      options.rateLimitKey ?? runKey(name, settings.rateLimit?.key, 'rateLimit.key', args),
  };
}

function runKey(
  name: string,
  key: KeyFunction | undefined,
  label: string,
  args: readonly unknown[],
): string | null {
  if (key === undefined) return null;
  let value: unknown;
  try {
    value = key(...args);
  } catch (error) {
    throw new ReseolioValidationError(
      `The ${label} function of "${name}" threw for these arguments: ` +
        `${(error as Error)?.message ?? describeValue(error)}. Nothing was stored.`,
      'RESEOLIO_INVALID_OPTION',
      { cause: error },
    );
  }
  return storableKey(
    value,
    label,
    `the ${label} function of "${name}"`,
    'return a string such as String(customerId)',
  );
}
