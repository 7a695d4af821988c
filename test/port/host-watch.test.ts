/**
 * host-open / host-close from the inotify watcher (src/port/host-watch.ts) when events merge:
 * inotify coalesces an event identical to the last one queued, so two opens in a row arrive as
 * one IN_OPEN and two closes in a row as one IN_CLOSE. The watcher must go by who holds the
 * device (/proc/<pid>/fd), not by counting events.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openPtyPort, type PtyPort } from '../../src/port/pty-port.js';
import { pythonForHelper } from '../../src/port/host-watch.js';
import { PY_FLAGS, pythonBin } from '../helpers/firmware.js';

const ports: PtyPort[] = [];
const fds: number[] = [];
afterEach(async () => {
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  await Promise.all(ports.splice(0).map((p) => p.close()));
});

/** A port with its host events counted and its debug log recorded. */
async function watched() {
  const records: { level: number; msg?: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line));
      cb();
    },
  });
  const port = await openPtyPort({ log: pino({ level: 'debug' }, stream) });
  ports.push(port);
  expect(port.hostWatched).toBe(true);
  const events: string[] = [];
  port.on('host-open', () => events.push('open'));
  port.on('host-close', () => events.push('close'));
  const logged = (msg: string) => records.filter((r) => r.msg === msg).length;
  return { port, events, logged };
}

const openDevice = (path: string): number => {
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  fds.push(fd);
  return fd;
};
const closeDevice = (fd: number): void => {
  fds.splice(fds.indexOf(fd), 1);
  fs.closeSync(fd);
};

describe('host watch: opens and closes that inotify merges', () => {
  it('a host that opens the device twice (as libuv does for a tty.ReadStream) and closes once still holds it: no host-close until the second close', async () => {
    const { port, events, logged } = await watched();
    // Back to back: the second IN_OPEN is merged into the first while the helper is asleep.
    const first = openDevice(port.devicePath);
    const second = openDevice(port.devicePath);
    await vi.waitFor(() => expect(events).toEqual(['open']));

    closeDevice(first);
    // The close has been checked against /proc once this is logged.
    await vi.waitFor(() => expect(logged('host closed device, still held')).toBe(1));
    expect(events).toEqual(['open']);
    // Still attached: bytes written by the modem reach the remaining descriptor.
    port.write(Buffer.from('\r\nOK\r\n'));
    const buf = Buffer.alloc(16);
    await vi.waitFor(() => expect(fs.readSync(second, buf, 0, 16, null)).toBe(6));

    closeDevice(second);
    await vi.waitFor(() => expect(events).toEqual(['open', 'close']));
    expect(logged('host closed device')).toBe(1);
  });

  it('another process holding two descriptors: closing one keeps the device held; exiting frees it, and a new opener is seen', async () => {
    const { port, events, logged } = await watched();
    const fw = spawn(
      pythonBin(),
      [
        ...PY_FLAGS,
        '-c',
        String.raw`
import os, sys
flags = os.O_RDWR | os.O_NOCTTY
a = os.open(sys.argv[1], flags); b = os.open(sys.argv[1], flags)
os.close(a)
print('closed one', flush=True)
sys.stdin.readline()
`,
        port.devicePath,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => fw.on('close', r));
    let out = '';
    fw.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    await vi.waitFor(() => expect(out).toBe('closed one\n'), { timeout: 10_000 });
    await vi.waitFor(() => expect(logged('host closed device, still held')).toBe(1), { timeout: 10_000 });
    expect(events).toEqual(['open']);

    fw.stdin.end('\n');
    await exited;
    await vi.waitFor(() => expect(events).toEqual(['open', 'close']));
    closeDevice(openDevice(port.devicePath));
    await vi.waitFor(() => expect(events).toEqual(['open', 'close', 'open', 'close']));
  });
});

describe('host watch: the interpreter of the helper', () => {
  it('is the first python3 on PATH that is a program, not a wrapper script such as a pyenv shim', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-python-'));
    try {
      const [none, shim, real] = ['none', 'shim', 'real'].map((d) => path.join(tmp, d));
      for (const d of [none, shim, real]) fs.mkdirSync(d);
      fs.writeFileSync(path.join(shim, 'python3'), '#!/bin/sh\nexec python3 "$@"\n', { mode: 0o755 });
      // Any ELF executable stands for the interpreter: the choice reads only the file's first bytes.
      fs.symlinkSync(process.execPath, path.join(real, 'python3'));
      expect(pythonForHelper(['relative/dir', none, shim, real].join(path.delimiter))).toBe(path.join(real, 'python3'));
      expect(pythonForHelper([none, shim].join(path.delimiter))).toBe('python3');
      expect(pythonForHelper('')).toBe('python3');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
