'use strict';
// Loads the CLI bundle (dist/bundle/vmodem.cjs, made by scripts/build-cli.mjs) the way Node
// loads a CommonJS file, plus V8's code cache: what module.enableCompileCache() does on Node
// 22, which Node 20 lacks (issue 12 §3: compiling the bundle was a large share of a cold start).
//
// The cache is used only for the exact bundle it was made from: its name carries the bundle's
// size and modification time, because V8 itself checks only the source's length (a rebuilt
// bundle of the same length would otherwise run stale code). V8 refuses a cache made by another
// V8 version or with other flags; the bundle is then compiled as usual.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

function cachePath(file) {
  const st = fs.statSync(file, { bigint: true });
  return `${file}.${st.size}-${st.mtimeNs}.cache`;
}

/**
 * Run `file` as a CommonJS module and return its exports. With `writeCache`, write the code
 * cache for it afterwards (replacing older ones), holding every function compiled so far.
 */
function loadBundle(file, { writeCache = false } = {}) {
  const cacheFile = cachePath(file);
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  if (!writeCache) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      // No cache: compile as usual.
    }
  }
  // No importModuleDynamically: the bundle has no import() (build-cli.mjs checks), and functions
  // compiled from a code cache could not run one anyway.
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  const mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  mod.loaded = true;
  if (writeCache) {
    const dir = path.dirname(file);
    const base = path.basename(file);
    for (const f of fs.readdirSync(dir)) if (f.startsWith(`${base}.`) && f.endsWith('.cache')) fs.rmSync(path.join(dir, f));
    fs.writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    fs.renameSync(`${cacheFile}.tmp`, cacheFile);
  }
  return mod.exports;
}

module.exports = { loadBundle };
