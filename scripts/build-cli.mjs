// Bundles the CLI (dist/cli/main.js, as tsc compiled it) and the packages it uses into
// dist/bundle/vmodem.cjs with esbuild, and V8's code cache for it, for bin/vmodem. Run by
// `npm run build`, after tsc. dist/index.js stays the library entry, unbundled.
//
// Why (issue 12 §3): a cold `vmodem start` spent most of its time before the PTY answered in
// Node's module loader — about a thousand files (dist/ and node_modules) resolved, read and
// compiled one by one (0.6–1.3 s on the 2-core machine). One file loads several times faster,
// and with a code cache V8 skips most of the compiling too (Node 20 has no
// module.enableCompileCache; bin/load-bundle.cjs does what it would).
//
// - CommonJS, one file: what only some runs need sits behind dynamic import()s in the sources,
//   which esbuild turns into modules initialised on first use. (ES module chunks cost more: each
//   is resolved, read, compiled and linked on its own, and a code cache needs a script.) The big
//   packages only those modules use stay external, loaded from node_modules when used: reading
//   the bundle and its cache is paid by every run, byte for byte (@peculiar/x509 and its ASN.1
//   stack alone are 1 MB; the certificates are made once per state dir).
// - The bundle sits two levels below the package root like every dist/<dir>/<file>.js, so the
//   paths the code builds from import.meta.url (profiles/, package.json, dist/ui) still resolve.
// - node-pty is a native module and stays external (pino-pretty too: only pino's transport worker
//   loads it, by path). pino's transports (pino-pretty on a terminal) start thread-stream's worker
//   from a file next to its own: `__bundlerPathsOverrides` is pino's documented hook for bundlers.
// - Every shipped profile is validated here with the schema tsc just compiled, and recorded
//   (SHA-256 of its bytes) in dist/profiles/validated.json: a start then needs no zod for a
//   profile nobody has changed since (src/profiles/profile-files.ts).
// - The code cache is made by running the bundle's module code once (not main()), so it holds the
//   functions every run compiles. V8 refuses it when its version or flags differ (the bundle is
//   then compiled as usual); bin/load-bundle.cjs uses it only for the bundle it was made from.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Only for making certificates (src/broker/tls-issue.ts), --cluster, YAML files (--config,
// --scenario, --registry), and zod: the schemas check only a profile the build did not validate,
// a config file, a scenario or a registry, all loaded on first use (zod was 566 KB, over a
// quarter of the bundle, read by every start).
const lazyPackages = ['@peculiar/x509', 'reflect-metadata', 'ioredis', 'aedes-persistence-redis', 'msgpack-lite', 'yaml', 'zod'];

/**
 * `import('<package>')` of an external package would stay a dynamic import() in the bundle, which
 * a script compiled from a code cache cannot run ("A dynamic import callback was not specified"):
 * turn it into a module of the bundle that requires the package, loaded on first use like the
 * bundle's own lazy modules.
 */
const requireLazyPackages = {
  name: 'require-lazy-packages',
  setup(b) {
    const filter = new RegExp(`^(${lazyPackages.map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-package' } : { path: args.path, external: true },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};
const out = join(root, 'dist', 'bundle');
rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { vmodem: 'dist/cli/main.js' },
  outdir: out,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['node-pty', 'pino-pretty'],
  plugins: [requireLazyPackages],
  metafile: true,
  define: { 'import.meta.url': '__vmodemImportMetaUrl' },
  banner: {
    js: [
      "const __vmodemImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
      "globalThis.__bundlerPathsOverrides ??= Object.defineProperty({}, 'thread-stream-worker', { enumerable: true, get: () => require.resolve('thread-stream/lib/worker.js') });",
    ].join('\n'),
  },
  // Smaller text reads and parses faster; identifiers stay as written (stack traces, profiles).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});

const dynamic = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path));
if (dynamic.length > 0) throw new Error(`build-cli: the bundle would import() ${dynamic.join(', ')} at run time; bundle them or add them to lazyPackages`);

const { loadBundle } = createRequire(import.meta.url)('../bin/load-bundle.cjs');
loadBundle(join(out, 'vmodem.cjs'), { writeCache: true });

// The profiles this build validated (src/profiles/profile-files.ts reads the record).
const profileFiles = await import(pathToFileURL(join(root, 'dist', 'profiles', 'profile-files.js')).href);
const { validateProfile } = await import(pathToFileURL(join(root, 'dist', 'profiles', 'load-profile.js')).href);
const record = { schema: profileFiles.schemaStamp(), files: {} };
for (const name of readdirSync(profileFiles.PROFILES_DIR).filter((f) => f.endsWith('.json')).sort()) {
  const file = join(profileFiles.PROFILES_DIR, name);
  const bytes = readFileSync(file);
  validateProfile(JSON.parse(bytes.toString('utf8')), file); // throws: a shipped profile that does not validate fails the build
  record.files[name] = profileFiles.sha256(bytes);
}
writeFileSync(profileFiles.VALIDATED_RECORD, `${JSON.stringify(record, null, 2)}\n`);
