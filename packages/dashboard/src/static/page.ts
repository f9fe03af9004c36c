import { createHash } from 'node:crypto';

/**
 * Adds the final `/` when a link left it out, before anything loads: relative URLs need it.
 * Inline, so it runs before the (relative) asset URLs are fetched; allowed by its hash in the
 * page's Content-Security-Policy.
 */
const SLASH_SCRIPT =
  "if(!location.pathname.endsWith('/'))location.replace(location.pathname+'/'+location.search+location.hash)";

/**
 * The page's Content-Security-Policy: its own scripts, styles, API and nothing else; no
 * framing (its buttons retry and cancel jobs, so no other site may overlay them).
 */
export const PAGE_CSP = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${createHash('sha256').update(SLASH_SCRIPT).digest('base64')}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** What the page needs to know at load; the rest comes from the API. */
export interface PageSettings {
  title: string;
  readOnly: boolean;
  scriptVersion: string;
  styleVersion: string;
}

/**
 * The one HTML page. Every URL in it is relative (`assets/…`, and the script calls `api/…`),
 * so it works under any mount prefix and behind a proxy that adds its own. Relative URLs
 * need the page's URL to end in `/`: the first inline script adds it when a link left it out.
 */
export function renderPage({ title, readOnly, scriptVersion, styleVersion }: PageSettings): string {
  const settings = escapeHtml(JSON.stringify({ title, readOnly }));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>${SLASH_SCRIPT}</script>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/style.css?v=${styleVersion}">
<script type="module" src="assets/app.js?v=${scriptVersion}"></script>
</head>
<body>
<div id="app" data-settings="${settings}"><p class="loading">Loading ${escapeHtml(title)}…</p></div>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
