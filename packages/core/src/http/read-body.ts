import type { IncomingMessage } from 'node:http';
import { PayloadTooLargeError, ReseolioValidationError } from '../errors.ts';

/**
 * The most a job route reads of a request body it parses itself (Express without
 * `express.json()` in front): 1 MiB, the engine's default `maxPayloadBytes`, plus room for the
 * `{ "payload": …, "idempotencyKey": … }` around it. Mount a body parser with a larger limit
 * in front of the routes to send more; a body it parsed is used as it is.
 */
export const MAX_ROUTE_BODY_BYTES = (1 << 20) + 16 * 1024;

/**
 * Reads and parses a request's JSON body, for frameworks whose routes get the raw stream.
 * A body some middleware already read (`express.json()`) is returned as that middleware
 * left it. No body, or an empty one, is `undefined`. A body that is not JSON, or declared as another
 * type, is a `ReseolioValidationError` (400); a body over `limit` bytes a `PayloadTooLargeError`
 * (413), read no further.
 */
export async function readJsonBody(
  request: IncomingMessage & { body?: unknown; _body?: unknown },
  limit = MAX_ROUTE_BODY_BYTES,
): Promise<unknown> {
  // Read already: by body-parser 1 (Express 4's express.json(), which marks `_body`), or by
  // body-parser 2 (Express 5's), which leaves the stream ended and its result in `body`.
  if (request._body === true || request.readableEnded) return request.body;
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early must not destroy the request: the 413 still has to be sent (Node
  // discards the rest of the body once the response ends).
  for await (const chunk of request.iterator({ destroyOnReturn: false })) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError('The request body', size, limit);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  const type = request.headers['content-type'];
  if (type !== undefined && !/^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new ReseolioValidationError(
      `The body must be JSON sent as Content-Type: application/json, got ${JSON.stringify(type)}.`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ReseolioValidationError('The body is not valid JSON.');
  }
}
