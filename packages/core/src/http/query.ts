import { ReseolioValidationError } from '../errors.ts';
import { SCHEDULE_STATUSES, type ScheduleStatus } from '../storage/schedule-records.ts';
import {
  DEFAULT_LIST_LIMIT,
  JOB_STATUSES,
  type ListQuery,
  MAX_LIST_LIMIT,
  type SignalInput,
} from './job-api.ts';
import type { ScheduleListQuery } from './schedule-api.ts';

/**
 * The job routes' query strings, parsed from what the framework's query parser produced.
 * Every framework parses differently (a repeated key is an array, `a[b]=1` an object under
 * Express's extended parser), so only a single string per key is accepted, and every
 * framework answers the same 400 for the same query. Errors are `ReseolioValidationError`,
 * which the routes answer with 400 `RESEOLIO_INVALID_INPUT`.
 */

/** The job routes' `GET /?status&name&scheduleId&limit&offset`. */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  return {
    status: oneOf(query, 'status', JOB_STATUSES),
    name: nonEmptyString(query, 'name'),
    scheduleId: nonEmptyString(query, 'scheduleId'),
    ...page(query),
  };
}

/** The schedule routes' `GET /?status&name&limit&offset`; `status` is `active` or `paused`. */
export function parseScheduleListQuery(query: Record<string, unknown>): ScheduleListQuery {
  return {
    status: oneOf<ScheduleStatus>(query, 'status', SCHEDULE_STATUSES),
    name: nonEmptyString(query, 'name'),
    ...page(query),
  };
}

function page(query: Record<string, unknown>): { limit: number; offset: number } {
  return {
    limit: optionalInteger(query, 'limit', 1, MAX_LIST_LIMIT) ?? DEFAULT_LIST_LIMIT,
    offset: optionalInteger(query, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
}

function oneOf<T extends string>(
  query: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(query, key);
  if (value !== undefined && !allowed.includes(value as T)) {
    throw new ReseolioValidationError(
      `querystring/${key} must be one of ${allowed.join(', ')}, got "${value}".`,
    );
  }
  return value as T | undefined;
}

function nonEmptyString(query: Record<string, unknown>, key: string): string | undefined {
  const value = optionalString(query, key);
  if (value === '') throw new ReseolioValidationError(`querystring/${key} must not be empty.`);
  return value;
}

/** `GET /:id/result?waitMs=N`: N, or 0 when left out. */
export function parseWaitMs(query: Record<string, unknown>): number {
  return optionalInteger(query, 'waitMs', 0, Number.MAX_SAFE_INTEGER) ?? 0;
}

function optionalString(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new ReseolioValidationError(`querystring/${key} must be given once, as a string.`);
  }
  return value;
}

function optionalInteger(
  query: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const text = optionalString(query, key);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new ReseolioValidationError(
      `querystring/${key} must be an integer from ${min} to ${max}, got "${text}".`,
    );
  }
  return value;
}

/** The header that may carry a signal's idempotency key instead of the body. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/**
 * The body of `POST /:id/signals/:topic`, as the framework's JSON parser produced it:
 * nothing (no payload), or an object `{ "payload"?: <any JSON>, "idempotencyKey"?: string }`.
 * Any other key is refused, so a payload sent bare (`{ "orderId": 1 }`) is a 400 rather than
 * a signal without it. The key may come in an `Idempotency-Key` header instead; both at once
 * must agree. The key's own bounds are the engine's (`signal()` checks them).
 * @param headers the request's headers, lower-cased names as Node gives them
 */
export function parseSignalBody(
  body: unknown,
  headers: Record<string, unknown> | undefined,
): SignalInput {
  let payload: unknown;
  let bodyKey: unknown;
  if (body !== undefined && body !== null && !isEmptyString(body)) {
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new ReseolioValidationError(
        'body must be a JSON object { "payload"?: any, "idempotencyKey"?: string }.',
      );
    }
    for (const key of Object.keys(body)) {
      if (key !== 'payload' && key !== 'idempotencyKey') {
        throw new ReseolioValidationError(
          `body/${key} is not allowed: send { "payload": <the signal's data>, "idempotencyKey"?: string }.`,
        );
      }
    }
    ({ payload, idempotencyKey: bodyKey } = body as {
      payload?: unknown;
      idempotencyKey?: unknown;
    });
    if (bodyKey !== undefined && typeof bodyKey !== 'string') {
      throw new ReseolioValidationError('body/idempotencyKey must be a string.');
    }
  }
  const headerKey = headers?.[IDEMPOTENCY_KEY_HEADER];
  if (headerKey !== undefined && typeof headerKey !== 'string') {
    throw new ReseolioValidationError('The Idempotency-Key header must be given once.');
  }
  if (headerKey !== undefined && bodyKey !== undefined && headerKey !== bodyKey) {
    throw new ReseolioValidationError(
      'The Idempotency-Key header and body/idempotencyKey differ; give the key once.',
    );
  }
  const idempotencyKey = (bodyKey ?? headerKey) as string | undefined;
  return idempotencyKey === undefined ? { payload } : { payload, idempotencyKey };
}

function isEmptyString(body: unknown): boolean {
  return typeof body === 'string' && body === '';
}
