import { describeValue } from '../describe-value.ts';
import { ReseolioValidationError } from '../errors.ts';

/** Durable function names and the `namespace()` parts they are joined from. */

const NAME_PATTERN = /^[A-Za-z0-9_.\-@]+(:[A-Za-z0-9_.\-@]+)*$/;
const PART_PATTERN = /^[A-Za-z0-9_.\-@]+$/;

/**
 * A durable function name: 1–200 characters of letters, digits, `_ . - @`, joined by `:`.
 * ASCII only, so NUL and unpaired surrogates (which adapters store differently) never pass.
 */
export function validateFunctionName(name: unknown): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 200 ||
    !NAME_PATTERN.test(name)
  ) {
    throw new ReseolioValidationError(
      `Invalid durable function name ${describeValue(name)}: use 1-200 characters of letters, ` +
        "digits, '_', '.', '-', '@', in parts joined by ':' (reseolio.namespace('orders', 'charge')).",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return name;
}

export function validateNamespacePart(part: unknown, index: number): string {
  // A whole name is at most 200 characters, so a longer part can never make one.
  if (typeof part !== 'string' || part.length > 200 || !PART_PATTERN.test(part)) {
    throw new ReseolioValidationError(
      `Invalid namespace part ${index + 1} ${describeValue(part)}: parts are 1-200 characters ` +
        "of letters, digits, '_', '.', '-', '@' (no ':' or '/').",
      'RESEOLIO_INVALID_NAME',
    );
  }
  return part;
}
