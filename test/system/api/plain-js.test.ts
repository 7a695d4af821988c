/**
 * The built package from plain JavaScript: test/system/api/consumer.mjs imports `vmodem` (dist/index.js,
 * through the package's own "exports") in a separate node process, drives the real PTY and the
 * API, and prints what it saw. `npm run test:system` builds dist/ first; when dist/ is missing or
 * predates src/api.ts, this file builds it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, ROOT } from '../../api/ensure-dist.js';

const run = promisify(execFile);

beforeAll(() => ensureDist(['index.ts', 'api.ts', 'vmodem.ts', 'control/scenario.ts', 'config/config-file.ts']), 120_000);

describe('plain JS (.mjs) importing the built package', () => {
  it('starts a modem, talks AT over its PTY, expects a publish and a URC, prints the transcript', async () => {
    const { stdout } = await run(process.execPath, [path.join(import.meta.dirname, 'consumer.mjs')], { cwd: ROOT, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.boot).toBe('\r\nRDY\r\n');
    expect(out.open).toMatch(/\+QMTOPEN: 0,0\r\n$/);
    expect(out.pub).toMatch(/\+QMTPUBEX: 0,0,0\r\n$/);
    expect(out.published).toEqual({ topic: 'dev/js', payload: 'js' });
    expect(out.urc).toBe('+QMTSTAT: 0,1');
    expect(out.timeoutIsControlError).toBe(true);
    expect(out.linkRemoved).toBe(true);
    const t = String(out.transcript).split('\n');
    expect(t).toContain('> AT+QMTCONN=0,"plain-js"');
    expect(t).toContain('< +QMTCONN: 0,0,0');
    expect(t).toContain('! expect-publish dev/js "js"');
    expect(t).toContain('< +QMTSTAT: 0,1');
  });

  it('exposes the types next to the code (dist/index.d.ts)', () => {
    const dts = fs.readFileSync(path.join(ROOT, 'dist', 'index.d.ts'), 'utf8');
    expect(dts).toMatch(/startModem/);
    expect(fs.readFileSync(path.join(ROOT, 'dist', 'api.d.ts'), 'utf8')).toMatch(/expectUrc\(pattern: RegExp \| string, opts\?: ExpectUrcOptions\): Promise<UrcMatch>/);
  });
});
