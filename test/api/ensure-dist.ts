/**
 * Tests that run the built package (bin/vmodem, dist/index.js) need dist/ to match src/.
 * `npm run test:system` builds first; `npm test` does not, and a direct `npx vitest run test/…` may find dist/ missing or
 * older than a source file, and then this builds it once (tsc emits even when an unrelated file
 * has a type error, so only the presence of the output is checked).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** True when a file of `files` (relative to src/) is newer than its dist/ output, or it is missing. */
function stale(files: string[]): boolean {
  return files.some((f) => {
    const out = path.join(ROOT, 'dist', f.replace(/\.ts$/, '.js'));
    if (!fs.existsSync(out)) return true;
    return fs.statSync(path.join(ROOT, 'src', f)).mtimeMs > fs.statSync(out).mtimeMs;
  });
}

let building: Promise<void> | undefined;

/** Build dist/ when one of `files` (paths under src/) is newer than its output. */
export function ensureDist(files: string[]): Promise<void> {
  if (!stale(files)) return Promise.resolve();
  return (building ??= (async () => {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT }).catch(() => undefined);
    if (stale(files)) throw new Error('dist/ could not be built; run `npm run build`');
  })());
}
