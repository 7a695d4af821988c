/**
 * `vmodem start --first-index N` (issue 12 §1): the modems of a node are numbered from N — names
 * modem<N>…, IMEIs the profile's base + N… — so two nodes of a cluster started alike do not share
 * IMEIs (or the client ids firmware builds from them). `index` stays the position in the process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nthImei } from '../../src/vmodem.js';
import { uniqueLink, useCliCleanup } from './helpers.js';
import { runMain, startMain, useMainCleanup } from './in-process.js';

useCliCleanup();
useMainCleanup();

describe('vmodem start --first-index', () => {
  it('names the modems and gives them IMEIs from that index on', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-first-index-'));
    const ready = path.join(dir, 'ready.json');
    try {
      await startMain(['--mqtt-port', '0', '--link', uniqueLink(), '--timing', 'fast', '--count', '2', '--first-index', '5', '--ready-file', ready]);
      const info = JSON.parse(fs.readFileSync(ready, 'utf8')) as { modems: { name: string; index: number; imei: string }[] };
      const base = '866123040000001'; // profiles/quectel-ec200.json identity.imei
      expect(info.modems.map((m) => [m.name, m.index, m.imei])).toEqual([
        ['modem5', 0, nthImei(base, 5)],
        ['modem6', 1, nthImei(base, 6)],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a value that is not a whole number in one line', async () => {
    const r = await runMain(['start', '--mqtt-port', '0', '--link', uniqueLink(), '--first-index', '-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--first-index must be a whole number/);
  });
});
