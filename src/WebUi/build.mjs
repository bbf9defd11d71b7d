// Bundles the UI into the Gateway's wwwroot: assets with content hashes in their names (cached for a year by the
// Gateway) and an index.html that names them (never cached). Run by `npm run build`, which the Gateway's build runs.
import * as esbuild from 'esbuild';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wwwroot = path.resolve(here, '../Gateway/wwwroot');
const assets = path.join(wwwroot, 'assets');

await rm(assets, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await esbuild.build({
  entryPoints: [path.join(here, 'src/main.tsx')],
  bundle: true,
  // WEBUI_DEV=1 keeps names readable (profiling); shipped builds are minified.
  minify: process.env.WEBUI_DEV !== '1',
  sourcemap: 'linked',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map(o => path.relative(wwwroot, path.resolve(o)).split(path.sep).join('/'));
const js = outputs.find(o => /\/main-[^/]+\.js$/.test(o));
const css = outputs.find(o => o.endsWith('.css'));
if (!js) throw new Error('esbuild produced no script');

const html = `<!doctype html>
<html lang="en" data-theme="auto">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>TorrentEdge</title>
  <script>document.documentElement.dataset.theme = localStorage.getItem('torrentedge.theme') || 'auto';</script>
${css ? `  <link rel="stylesheet" href="/${css}">\n` : ''}  <script type="module" src="/${js}"></script>
</head>
<body>
  <div id="app"><noscript>TorrentEdge's web UI needs JavaScript. The API is at /api (docs/catalog.md).</noscript></div>
</body>
</html>
`;
await writeFile(path.join(wwwroot, 'index.html'), html);

const sizes = await Promise.all((await readdir(assets)).map(async f => f));
console.log(`web UI built into ${path.relative(process.cwd(), wwwroot) || '.'}: ${sizes.filter(f => !f.endsWith('.map')).join(', ')}`);
