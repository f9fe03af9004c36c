import type { ServerResponse } from 'node:http';
import type { ApiResponse } from 'reseolio/http';

/**
 * Sends a JSON answer. `no-store`: job data changes every second and may be private, so no
 * cache (browser or proxy) keeps it.
 */
export function sendJson(res: ServerResponse, { status, body }: ApiResponse): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** A plain-text answer, for the page and assets' refusals (a browser shows it as it is). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}
