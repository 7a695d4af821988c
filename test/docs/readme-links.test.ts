/**
 * The README's links work from a clone and from the npm package (issue 14 §9): every relative
 * link names a file of the repository that package.json "files" ships, and none points outside
 * the repository (the vendor manuals are cited by title instead).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const files = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));

describe('README links', () => {
  it('has relative links to check', () => {
    expect(links.length).toBeGreaterThan(5);
  });

  it('every relative link stays inside the repository and names a file that exists', () => {
    for (const l of links) {
      const p = path.resolve(ROOT, l);
      expect(p.startsWith(ROOT + path.sep), l).toBe(true);
      expect(fs.existsSync(p), l).toBe(true);
    }
  });

  it('every linked file is in the npm package ("files" in package.json)', () => {
    for (const l of links) {
      const rel = path.normalize(l);
      expect(files.some((f) => rel === f || rel.startsWith(`${f}/`)), l).toBe(true);
    }
  });

  it('the license package.json names is there', () => {
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });
});

describe('README profile table', () => {
  it('names every profile with the module and manual title vmodem profiles prints', async () => {
    const { listProfileIds, loadProfile } = await import('../../src/profiles/load-profile.js');
    const rows = new Map([...readme.matchAll(/^\| `([a-z0-9-]+)` \| (.+?) \| (.+?) \|$/gm)].map((m) => [m[1]!, { module: m[2]!, manual: m[3]! }]));
    for (const id of listProfileIds()) {
      const p = loadProfile(id);
      expect(rows.get(id), id).toEqual({ module: p.module, manual: p.manual.title });
    }
  });
});
