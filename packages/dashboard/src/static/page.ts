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
 * need the page's URL to end in `/`: the first inline line adds it when a link left it out.
 */
export function renderPage({ title, readOnly, scriptVersion, styleVersion }: PageSettings): string {
  const settings = escapeHtml(JSON.stringify({ title, readOnly }));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>if(!location.pathname.endsWith('/'))location.replace(location.pathname+'/'+location.search+location.hash)</script>
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
