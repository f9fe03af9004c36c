import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

/** One file the dashboard serves, ready in both encodings. */
export interface Asset {
  type: string;
  raw: Buffer;
  /** The gzip encoding, for clients that accept it. */
  gzip: Buffer;
  /** A strong validator of the raw bytes (quoted, as the header wants it). */
  etag: string;
  /** The first 12 hex digits of the content hash; the page adds it to asset URLs. */
  version: string;
}

/**
 * The built files, by the name the page asks for. Only names in this table are ever read, so
 * no request path reaches the file system (no traversal by construction).
 */
const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** Where `scripts/build-ui.mjs` writes them: `dist/assets`, beside `dist/` and `src/` alike. */
const ASSET_DIR = new URL('../../dist/assets/', import.meta.url);

let loading: Promise<Map<string, Asset>> | undefined;

/**
 * The built assets, read and compressed once per process (a few tens of KiB). A package that
 * was not built fails with a message saying so.
 */
export function loadAssets(): Promise<Map<string, Asset>> {
  loading ??= readAll().catch((error: unknown) => {
    loading = undefined;
    throw new Error(
      `@reseolio/dashboard: the UI assets are missing from ${ASSET_DIR.pathname}; build the package (pnpm build), which bundles them.`,
      { cause: error },
    );
  });
  return loading;
}

async function readAll(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(FILES)) {
    assets.set(name, makeAsset(type, await readFile(new URL(name, ASSET_DIR))));
  }
  return assets;
}

/** Hashes and compresses a body once, so every answer of it is a lookup. */
export function makeAsset(type: string, raw: Buffer): Asset {
  const hash = createHash('sha256').update(raw).digest('hex');
  return {
    type,
    raw,
    gzip: gzipSync(raw, { level: 9 }),
    etag: `"${hash.slice(0, 32)}"`,
    version: hash.slice(0, 12),
  };
}
