// Bundles the browser UI (src/ui) into dist/assets at package build time, so users never run
// a build step: the package ships dist/assets/app.js and app.css, which the server serves.
import { mkdir, rm } from 'node:fs/promises';
import { build } from 'esbuild';

const out = new URL('../dist/assets/', import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: {
    app: new URL('../src/ui/main.tsx', import.meta.url).pathname,
    // The stylesheet is its own entry so the page can load it in <head> before the script.
    style: new URL('../src/ui/style.css', import.meta.url).pathname,
  },
  outdir: out.pathname,
  bundle: true,
  minify: true,
  format: 'esm',
  // Evergreen browsers only: an operator's tool, and no polyfills keeps the first load small.
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  console.log(`${file.slice(file.indexOf('dist/'))}: ${(bytes / 1024).toFixed(1)} KiB`);
}
