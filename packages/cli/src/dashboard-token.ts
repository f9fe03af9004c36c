import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The standalone dashboard's access check: a shared secret, given as
 * `Authorization: Bearer <token>`, or once as `?token=<token>` on a page URL, which answers
 * with a cookie and a redirect to the same URL without the token (so it leaves the address
 * bar, the history and the logs of anything that records URLs afterwards).
 */
export interface TokenGate {
  /** `true`: let the request through; `false`: the answer (401 or the redirect) is sent. */
  admit(req: IncomingMessage, res: ServerResponse): boolean;
}

/**
 * @param cookieName one per port (known once the server listens): cookies are shared by
 *   every port of a host, and two dashboards on one machine must not overwrite each other's
 */
export function createTokenGate(token: string, cookieName: () => string): TokenGate {
  // The cookie carries a value derived from the token, never the token itself.
  const cookieValue = createHmac('sha256', token)
    .update('reseolio dashboard session')
    .digest('base64url');
  return {
    admit(req, res) {
      const url = new URL(req.url ?? '/', 'http://dashboard');
      const given = url.searchParams.get('token');
      if (given !== null) {
        if (!sameSecret(given, token)) return refuse(req, res);
        url.searchParams.delete('token');
        res.statusCode = 303;
        res.setHeader(
          'set-cookie',
          `${cookieName()}=${cookieValue}; HttpOnly; SameSite=Strict; Path=/`,
        );
        res.setHeader('location', `${url.pathname}${url.search}`);
        res.setHeader('cache-control', 'no-store');
        res.end();
        return false;
      }
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      if (bearer !== undefined && sameSecret(bearer, token)) return true;
      const cookie = cookieOf(req.headers.cookie, cookieName());
      if (cookie !== undefined && sameSecret(cookie, cookieValue)) return true;
      return refuse(req, res);
    },
  };
}

/** Compares in constant time: hashing first makes lengths equal, as `timingSafeEqual` needs. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at !== -1 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

const HOW =
  'This Reseolio dashboard needs its token: open it once as /?token=<token> in the browser, ' +
  'or send Authorization: Bearer <token>.';

/** 401, as a short page for a browser and as the job routes' JSON error for anything else. */
function refuse(req: IncomingMessage, res: ServerResponse): false {
  const html = (req.headers.accept ?? '').includes('text/html');
  const body = html
    ? `<!doctype html><meta charset="utf-8"><title>Reseolio</title><p>${HOW.replaceAll('<token>', '&lt;token&gt;')}</p>\n`
    : JSON.stringify({ error: { code: 'RESEOLIO_UNAUTHENTICATED', message: HOW } });
  res.statusCode = 401;
  res.setHeader(
    'content-type',
    html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
  );
  res.setHeader('www-authenticate', 'Bearer realm="reseolio-dashboard"');
  res.setHeader('cache-control', 'no-store');
  res.end(body);
  return false;
}
