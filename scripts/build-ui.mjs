// Bundles the dashboard (ui/) into dist/ui with esbuild: one ES module, one stylesheet (the
// page's and xterm.js's), and index.html. No CDN, no source maps in the bundle's directory
// listing beyond app.js.map. Run by `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'ui', 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  target: ['chrome115', 'firefox115'],
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  loader: { '.css': 'css' },
  logLevel: 'warning',
  legalComments: 'eof',
});
copyFileSync(join(root, 'ui', 'index.html'), join(out, 'index.html'));
