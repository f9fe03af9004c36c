import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse } from 'reseolio/http';
import type { ResolvedDashboardOptions } from '../options.ts';
import { sendJson } from '../respond.ts';
import type { Route } from '../route.ts';
import { type Asset, loadAssets, makeAsset } from './assets.ts';
import { PAGE_CSP, renderPage } from './page.ts';

/** A year: asset URLs carry their content hash (`?v=`), so a changed file has a new URL. */
const IMMUTABLE = 'private, max-age=31536000, immutable';
/** The page and unversioned asset URLs are revalidated (ETag) on every load. */
const REVALIDATE = 'private, no-cache';

/** `GET assets/<name>`: a built file, 404 for any other name. */
export async function serveAsset(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
): Promise<void> {
  if (!isRead(req, res)) return;
  const assets = await loadAssets();
  const asset = route.segments.length === 2 ? assets.get(route.segments[1]!) : undefined;
  if (asset === undefined) {
    sendJson(
      res,
      errorResponse(404, 'RESEOLIO_NOT_FOUND', `The dashboard has no asset ${route.pathname}.`),
    );
    return;
  }
  const versioned = route.query.get('v') === asset.version;
  sendAsset(req, res, asset, versioned ? IMMUTABLE : REVALIDATE);
}

const pages = new WeakMap<object, Asset>();

/** `GET /`: the page, which loads the assets by relative URL. */
export async function servePage<Req>(
  config: ResolvedDashboardOptions<Req>,
  req: IncomingMessage,
  res: ServerResponse,
  _route: Route,
): Promise<void> {
  if (!isRead(req, res)) return;
  let page = pages.get(config);
  if (page === undefined) {
    const assets = await loadAssets();
    const html = renderPage({
      title: config.title,
      readOnly: config.readOnly,
      scriptVersion: assets.get('app.js')!.version,
      styleVersion: assets.get('style.css')!.version,
    });
    page = makeAsset('text/html; charset=utf-8', Buffer.from(html));
    pages.set(config, page);
  }
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  sendAsset(req, res, page, REVALIDATE);
}

function isRead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.setHeader('allow', 'GET, HEAD');
  sendJson(
    res,
    errorResponse(
      405,
      'RESEOLIO_METHOD_NOT_ALLOWED',
      `${req.method} is not allowed here; use GET.`,
    ),
  );
  return false;
}

/** Sends an asset: 304 when the client holds it, gzip when it accepts gzip. */
function sendAsset(
  req: IncomingMessage,
  res: ServerResponse,
  asset: Asset,
  cacheControl: string,
): void {
  const headers: Record<string, string | number> = {
    'content-type': asset.type,
    etag: asset.etag,
    'cache-control': cacheControl,
    vary: 'Accept-Encoding',
    'x-content-type-options': 'nosniff',
  };
  if (matches(req.headers['if-none-match'], asset.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const body = acceptsGzip(req.headers['accept-encoding']) ? asset.gzip : asset.raw;
  if (body === asset.gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/** `gzip` listed without `q=0`. */
function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
