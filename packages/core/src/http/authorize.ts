import type { Logger } from '../types.ts';
import { type ApiResponse, errorResponse } from './job-api.ts';

/**
 * Decides whether a request may use the job routes. Return `true` to allow; any other value
 * refuses with 403. To answer 401 instead (no credentials at all), throw an error whose
 * `status` or `statusCode` is 401, such as Nest's `UnauthorizedException` or
 * `createError(401)` of `http-errors`. Any other throw answers 500 and is logged.
 */
export type AuthorizeFn<Req> = (request: Req) => boolean | Promise<boolean>;

/**
 * Runs `authorize`, failing closed. `undefined` means the request may proceed; otherwise
 * the refusal to send, which carries no job data:
 * - returned anything but `true`: 403 `RESEOLIO_FORBIDDEN`;
 * - threw an error with `status`/`statusCode` 401 or 403: that answer, not logged (it is a
 *   refusal said another way);
 * - threw anything else: 500 `RESEOLIO_AUTHORIZE_FAILED`, and the error is logged at error
 *   level, because a bug or an unreachable identity provider must be seen, and must not pass
 *   for a wrong password. Its message is never sent.
 * @param authorize `null` when the routes were made public on purpose
 */
export async function checkAuthorization<Req>(
  authorize: AuthorizeFn<Req> | null,
  request: Req,
  log: Logger,
): Promise<ApiResponse | undefined> {
  if (authorize === null) return undefined;
  let allowed: unknown;
  try {
    allowed = await authorize(request);
  } catch (error) {
    const status = httpStatusOf(error);
    if (status === 401) return UNAUTHENTICATED;
    if (status === 403) return FORBIDDEN;
    log.error(AUTHORIZE_THREW, error);
    return AUTHORIZE_FAILED;
  }
  return allowed === true ? undefined : FORBIDDEN;
}

/** Says how to get the 401 that a throw meant before 0.3, so the change is not silent. */
const AUTHORIZE_THREW =
  'authorize threw; answering 500. To refuse a caller, return false (403) or throw an ' +
  'error with status 401 (401).';

const UNAUTHENTICATED = errorResponse(
  401,
  'RESEOLIO_UNAUTHENTICATED',
  'Authentication is required.',
);
const FORBIDDEN = errorResponse(403, 'RESEOLIO_FORBIDDEN', 'You are not allowed to access jobs.');
const AUTHORIZE_FAILED = errorResponse(
  500,
  'RESEOLIO_AUTHORIZE_FAILED',
  'The request could not be authorized; the cause is in the server log.',
);

/** `status` (http-errors, Nest's HttpException) or `statusCode` (Fastify, Boom-style). */
function httpStatusOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  return status ?? statusCode;
}
