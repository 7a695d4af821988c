/**
 * examples/python/firmware.py (pyserial) and examples/c/firmware.c (termios) against
 * quectel-ec200 (issue 14 §8): each opens the PTY, connects, subscribes, publishes and receives
 * one message from the cloud. Skipped, with the package named, when pyserial or a C compiler is
 * missing.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startModem } from 'vmodem';
import { which } from '../../helpers/requires.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** A python3 that can import pyserial (pyenv's may not see Debian's python3-serial). */
function pythonWithSerial(): string | undefined {
  for (const py of [which('python3'), '/usr/bin/python3'].filter((p): p is string => Boolean(p))) {
    try {
      execFileSync(py, ['-c', 'import serial'], { stdio: 'ignore' });
      return py;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const python = pythonWithSerial();
const cc = which('cc');

/** Run the firmware on a fresh modem; the cloud answers its hello. */
async function runFirmware(cmd: string, args: (link: string) => string[], id: string, hello: string): Promise<void> {
  const modem = await startModem({ profile: 'quectel-ec200' });
  const child = spawn(cmd, args(modem.link), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  try {
    await modem.expectPublish({ topic: `dev/${id}/up`, payload: hello, qos: 1 }, { timeoutMs: 20_000 });
    await modem.publish({ topic: `dev/${id}/down`, payload: 'hi from the cloud', qos: 1 });
    expect(await exited, out).toBe(0);
    expect(out).toContain('received: hi from the cloud\n');
    expect(modem.urcs().map((u) => u.text)).toEqual(expect.arrayContaining(['+QMTOPEN: 0,0', '+QMTCONN: 0,0,0', '+QMTPUBEX: 0,1,0']));
  } finally {
    child.kill();
    await modem.stop();
  }
}

describe.skipIf(!python)(`examples/python/firmware.py${python ? '' : ' — skipped: needs pyserial (apt-get install python3-serial)'}`, () => {
  it('opens, connects, subscribes, publishes and receives against quectel-ec200', async () => {
    await runFirmware(python!, (link) => [path.join(ROOT, 'examples/python/firmware.py'), link, 'py1'], 'py1', 'hello from python');
  });
});

describe.skipIf(!cc)(`examples/c/firmware.c${cc ? '' : ' — skipped: needs a C compiler (apt-get install build-essential)'}`, () => {
  it('builds warning-free and opens, connects, subscribes, publishes and receives against quectel-ec200', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-example-c-'));
    try {
      const bin = path.join(dir, 'firmware');
      execFileSync(cc!, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, path.join(ROOT, 'examples/c/firmware.c')]);
      await runFirmware(bin, (link) => [link, 'c1'], 'c1', 'hello from c');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
