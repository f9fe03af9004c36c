import { describeValue } from '../describe-value.ts';
import { PayloadTooLargeError, ReseolioValidationError } from '../errors.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '../options/bounds.ts';
import { assertKnownKeys, assertPlainObject, unstorableText } from '../options/validators.ts';
import { serialize } from '../serialization/encode.ts';

/** `reseolio.signal(jobId, topic, payload, options)`, checked and serialized before storage. */
export function resolveSignal(
  jobId: unknown,
  topic: unknown,
  payload: unknown,
  options: unknown,
  maxPayloadBytes: number,
): { jobId: string; topic: string; payload: string; idempotencyKey: string | null } {
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 200) {
    throw new ReseolioValidationError(
      `signal(jobId, …) needs a job id string; got ${describeValue(jobId)}.`,
      'RESEOLIO_INVALID_INPUT',
    );
  }
  if (
    typeof topic !== 'string' ||
    topic.length === 0 ||
    topic.length > 200 ||
    unstorableText(topic) !== undefined
  ) {
    throw new ReseolioValidationError(
      `signal(jobId, topic) needs a topic of 1-200 characters without NUL or unpaired ` +
        `surrogates; got ${describeValue(topic)}.`,
      'RESEOLIO_INVALID_INPUT',
    );
  }
  let idempotencyKey: string | null = null;
  if (options !== undefined) {
    assertPlainObject(options, 'signal() options');
    assertKnownKeys(options as Record<string, unknown>, ['idempotencyKey'], 'signal() options');
    const key = (options as { idempotencyKey?: unknown }).idempotencyKey;
    if (key !== undefined) {
      if (
        typeof key !== 'string' ||
        key.length === 0 ||
        key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
        unstorableText(key) !== undefined
      ) {
        throw new ReseolioValidationError(
          `signal() idempotencyKey must be a string of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} ` +
            `characters without NUL or unpaired surrogates; got ${describeValue(key)}.`,
          'RESEOLIO_INVALID_OPTION',
        );
      }
      idempotencyKey = key;
    }
  }
  const text = serialize(payload, 'The signal payload');
  const size = Buffer.byteLength(text);
  if (size > maxPayloadBytes)
    throw new PayloadTooLargeError('The signal payload', size, maxPayloadBytes);
  return { jobId, topic, payload: text, idempotencyKey };
}
