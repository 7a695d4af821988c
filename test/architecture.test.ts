/**
 * Dependencies point one way (DESIGN.md "Shape", issue 8 §5): cli → vmodem (composition root) →
 * control/record/check → modem → vendors → mqtt/at → port/util. This test reads the import and
 * re-export statements of every file under src/ (TypeScript's own pre-processor, so `import type`,
 * `export … from` and `import()` count) and fails on any that points against that direction.
 *
 * Each file belongs to one layer; a file may import its own layer or a layer of lower rank. Two
 * layers of equal rank are siblings and may not import each other — that is how "the modem
 * imports no vendor" is kept: the modem (the wiring) and the vendors both stand on the device
 * contract (src/modem/device.ts and the types it exposes), and the composition root hands the
 * modem its command-set registry.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

interface Layer {
  name: string;
  rank: number;
  /** Paths under src/: a directory ends with `/`; the first layer that matches a file wins. */
  paths: string[];
}

const LAYERS: Layer[] = [
  { name: 'package entry', rank: 110, paths: ['index.ts'] },
  { name: 'cli', rank: 100, paths: ['cli/'] },
  { name: 'test API', rank: 100, paths: ['api.ts'] },
  // The config file is a front end's input format: it turns YAML into the composition root's
  // options (VmodemOptions), so it stands above vmodem.ts, beside the CLI that reads it.
  { name: 'config', rank: 95, paths: ['config/'] },
  { name: 'composition root', rank: 90, paths: ['vmodem.ts'] },
  { name: 'check', rank: 85, paths: ['check/'] },
  // The demo firmware (issue 11) is a client of the PTY: it imports no other layer.
  { name: 'demo', rank: 85, paths: ['demo/'] },
  { name: 'control', rank: 80, paths: ['control/'] },
  { name: 'record', rank: 80, paths: ['record/'] },
  { name: 'cloud', rank: 70, paths: ['cloud/'] },
  { name: 'broker', rank: 65, paths: ['broker/'] },
  { name: 'transcript', rank: 60, paths: ['transcript/'] },
  // The wiring of one module instance; it receives its command sets, it imports none.
  { name: 'modem', rank: 50, paths: ['modem/modem.ts', 'modem/link-opener.ts'] },
  { name: 'vendors', rank: 50, paths: ['vendors/'] },
  // What a command set may know of its modem: Device, CommandSet, flash, network state, timing.
  { name: 'device contract', rank: 45, paths: ['modem/'] },
  { name: 'mqtt', rank: 30, paths: ['mqtt/'] },
  { name: 'at', rank: 30, paths: ['at/'] },
  { name: 'profiles', rank: 20, paths: ['profiles/'] },
  // Tables both a vendor and the virtual cloud need (neither may own them).
  { name: 'platform', rank: 20, paths: ['platform/'] },
  { name: 'port', rank: 10, paths: ['port/'] },
  { name: 'util', rank: 0, paths: ['util/'] },
];

/** The layer of a path relative to src/ (POSIX separators), or undefined. */
function layerOf(rel: string): Layer | undefined {
  return LAYERS.find((l) => l.paths.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p)));
}

/** Why `from` may not import `to`, or undefined when it may. */
function refusal(from: Layer, to: Layer): string | undefined {
  if (from === to || from.rank > to.rank) return undefined;
  if (from.rank === to.rank) return `${from.name} and ${to.name} are siblings: neither imports the other`;
  return `${from.name} (rank ${from.rank}) may not import ${to.name} (rank ${to.rank}), a layer above it`;
}

function layerNamed(name: string): Layer {
  const l = LAYERS.find((x) => x.name === name);
  if (!l) throw new Error(`no layer ${name}`);
  return l;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

interface Edge {
  from: string;
  to: string;
  line: number;
}

/** Every relative import of src/, resolved to a path under src/ (`.js` specifiers name `.ts` files). */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue; // a package or node: built-in
      const target = path.resolve(path.dirname(file), ref.fileName).replace(/\.js$/, '.ts');
      const line = text.slice(0, ref.pos).split('\n').length;
      edges.push({ from: path.relative(SRC, file).split(path.sep).join('/'), to: path.relative(SRC, target).split(path.sep).join('/'), line });
    }
  }
  return edges;
}

describe('dependency direction', () => {
  const edges = importEdges();

  it('finds the imports it checks (the reader works)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'modem/modem.ts', to: 'at/engine.ts' }));
  });

  it('places every file of src/ in a layer', () => {
    const unplaced = sourceFiles(SRC)
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .filter((rel) => !layerOf(rel));
    expect(unplaced, 'add these to LAYERS in test/architecture.test.ts').toEqual([]);
  });

  it('has no import that points against the direction', () => {
    const wrong: string[] = [];
    for (const e of edges) {
      const from = layerOf(e.from);
      const to = layerOf(e.to);
      if (!from || !to) continue; // reported by the test above
      const why = refusal(from, to);
      if (why) wrong.push(`src/${e.from}:${e.line} imports src/${e.to}: ${why}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses the imports issue 8 names: modem → vendors, vendors → cloud, a low layer → vmodem.ts', () => {
    expect(refusal(layerOf('modem/modem.ts')!, layerOf('vendors/registry.ts')!)).toMatch(/siblings/);
    expect(refusal(layerOf('vendors/tencent/errors.ts')!, layerOf('cloud/schemes/tencent-dynreg.ts')!)).toMatch(/above/);
    for (const low of ['mqtt/session.ts', 'control/controller.ts', 'check/check.ts', 'util/logger.ts']) {
      expect(refusal(layerOf(low)!, layerOf('vmodem.ts')!), low).toMatch(/above/);
    }
  });

  it('lets vendors use the device contract, the engine, the session core and the platform tables', () => {
    const vendors = layerNamed('vendors');
    for (const to of ['modem/device.ts', 'modem/module-flash.ts', 'at/types.ts', 'mqtt/types.ts', 'platform/tencent.ts']) {
      expect(refusal(vendors, layerOf(to)!), to).toBeUndefined();
    }
    expect(refusal(layerNamed('device contract'), vendors)).toMatch(/above/);
  });
});
