/**
 * Real pseudo-terminal tests: a separate python3 process plays the firmware and opens the
 * device through the published link with plain os.open/os.read/os.write (no termios set-up,
 * no pyserial), so the port's own raw-mode configuration is what is being tested.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { openRawPty } from '../../src/port/native-pty.js';
import { openPtyPort, type PtyPort } from '../../src/port/pty-port.js';
import { PY_FLAGS, pythonBin } from '../helpers/firmware.js';

const execFileP = promisify(execFile);

const ports: PtyPort[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const tmpPaths: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  await Promise.all(ports.splice(0).map((p) => p.close()));
  for (const p of tmpPaths.splice(0)) fs.rmSync(p, { recursive: true, force: true });
});

function uniqueLink(): string {
  const p = path.join(os.tmpdir(), `vmodem-test-${process.pid}-${randomBytes(6).toString('hex')}`);
  tmpPaths.push(p);
  return p;
}

/** A logger that records every line, to assert that nothing went wrong on the modem side. */
function recordingLogger() {
  const records: { level: number; msg?: string; err?: unknown }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), records };
}

async function open(opts: Parameters<typeof openPtyPort>[0] = {}): Promise<PtyPort> {
  const port = await openPtyPort(opts);
  ports.push(port);
  return port;
}

/** Run a python3 "firmware"; collects stdout lines. */
function firmware(script: string, ...args: string[]) {
  const child = spawn(pythonBin(), [...PY_FLAGS, '-c', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const lines: string[] = [];
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    out += s;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
  });
  child.stderr.on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; stderr: string; lines: string[] }>((resolve) =>
    child.on('close', (code) => resolve({ code, stderr: err, lines })),
  );
  const waitLine = (pred: (l: string) => boolean) =>
    vi.waitFor(
      () => {
        const l = lines.find(pred);
        if (l === undefined) throw new Error(`no such line yet; stderr: ${err}`);
        return l;
      },
      { timeout: 20_000, interval: 5 },
    );
  return { child, lines, exited, waitLine, send: (s: string) => child.stdin.write(s) };
}

/** Resolve with the first n bytes the host sends. */
function collect(port: PtyPort, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= n) {
        port.off('data', onData);
        resolve(Buffer.concat(parts));
      }
    };
    port.on('data', onData);
  });
}

const PY_PRELUDE = String.raw`
import os, select, sys
def read_exact(fd, n, timeout=15):
    buf = b''
    while len(buf) < n:
        r = select.select([fd], [], [], timeout)[0]
        if not r:
            raise SystemExit('timeout after %d of %d bytes: %r' % (len(buf), n, buf[-64:]))
        buf += os.read(fd, n - len(buf))
    return buf
def read_until(fd, marker, timeout=15):
    buf = bytearray()
    while not buf.endswith(marker):
        r = select.select([fd], [], [], timeout)[0]
        if not r:
            raise SystemExit('timeout waiting for %r after %d bytes' % (marker, len(buf)))
        buf += os.read(fd, 65536)
    return bytes(buf)
def quiet(fd, t=0.2):
    return not select.select([fd], [], [], t)[0]
`;

describe('PtyPort (real pseudo-terminal)', () => {
  it('passes all 256 byte values unchanged in both directions, without echo', async () => {
    const { log, records } = recordingLogger();
    const port = await open({ link: uniqueLink(), log });
    expect(port.devicePath).toMatch(/^\/dev\/pts\/\d+$/);
    let hostBytes = 0;
    port.on('data', (d) => (hostBytes += d.length));

    const fw = firmware(
      PY_PRELUDE +
        String.raw`
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
os.write(fd, bytes(range(256)))
got = read_exact(fd, 256)
extra = b'' if quiet(fd) else os.read(fd, 4096)
print(got.hex())
print('extra:' + extra.hex())
`,
      port.linkPath!,
    );
    const fromHost = await collect(port, 256);
    expect(fromHost).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));

    // A different pattern back, so an echo of the host's own bytes could not pass for it.
    const toHost = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    port.write(toHost);
    const res = await fw.exited;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(Buffer.from(res.lines[0]!, 'hex')).toEqual(toHost);
    expect(res.lines[1]).toBe('extra:');

    // Nothing more arrived from the host either (no translation added bytes).
    await new Promise((r) => setTimeout(r, 50));
    expect(hostBytes).toBe(256);
    expect(records.filter((r) => r.level >= 50)).toEqual([]);
  }, 30_000);

  it('is set up as `stty raw -echo` sets it, by the host watcher\'s helper and by the shared raw-mode helper alike', async () => {
    const flagsOf = async (device: string): Promise<string> => {
      const { stdout } = await execFileP('stty', ['-F', device, '-a'], { env: { ...process.env, LC_ALL: 'C' } });
      // The first line names the speed and the window size; the flags follow.
      return stdout.split('\n').slice(1).join('\n');
    };
    // The reference: a bare PTY pair put in raw mode by stty itself.
    const bare = openRawPty();
    let reference: string;
    try {
      await execFileP('stty', ['-F', bare.path, 'raw', '-echo'], { env: { ...process.env, LC_ALL: 'C' } });
      reference = await flagsOf(bare.path);
    } finally {
      fs.closeSync(bare.master);
      fs.closeSync(bare.slave);
    }
    expect(reference).toMatch(/-icanon/);
    const watched = await open({ hostEvents: true });
    expect(watched.hostWatched).toBe(true);
    const plain = await open({ hostEvents: false });
    expect(plain.hostWatched).toBe(false);
    expect(await flagsOf(watched.devicePath)).toEqual(reference);
    expect(await flagsOf(plain.devicePath)).toEqual(reference);
  });

  it('survives the host closing and reopening the device; the new opener talks at once', async () => {
    const { log, records } = recordingLogger();
    const port = await open({ link: uniqueLink(), log });
    let opens = 0;
    let closes = 0;
    port.on('host-open', () => opens++);
    port.on('host-close', () => closes++);
    const received: Buffer[] = [];
    port.on('data', (d) => {
      received.push(d);
      port.write(d); // echo
    });

    const script =
      PY_PRELUDE +
      String.raw`
for i in range(6):
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
    msg = b'AT+PING=%d\r\n' % i + bytes([0, 3, 4, 0x1a, 0x7f, 0xff, 0x0d, 0x0a])
    os.write(fd, msg)
    got = read_exact(fd, len(msg))
    if got != msg:
        raise SystemExit('round %d: got %r' % (i, got))
    os.close(fd)
print('ok')
`;
    const first = await firmware(script, port.linkPath!).exited;
    expect(first.stderr).toBe('');
    expect(first.lines).toEqual(['ok']);

    // A second, separate firmware process after the first one exited.
    const second = await firmware(script, port.devicePath).exited;
    expect(second.lines).toEqual(['ok']);

    expect(Buffer.concat(received).length).toBe(2 * 6 * (11 + 8));
    // host-open / host-close come from inotify (python3 helper), asynchronously.
    await vi.waitFor(() => expect([opens, closes]).toEqual([12, 12]), { timeout: 10_000 });
    expect(records.filter((r) => r.level >= 40)).toEqual([]);
  }, 30_000);

  it('keeps the event loop alive and bounded when the host stops reading, then recovers', async () => {
    const { log } = recordingLogger();
    const bound = 256 * 1024;
    const port = await open({ link: uniqueLink(), log });
    let dropped = 0;
    let overflowEvents = 0;
    port.on('overflow', (n) => {
      overflowEvents++;
      dropped += n;
    });

    const fw = firmware(
      PY_PRELUDE +
        String.raw`
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
print('opened', flush=True)
sys.stdin.readline()           # do not read the device until told to
data = read_until(fd, b'<END>')
body = data[:-5]
print('drained %d %s' % (len(data), 'clean' if body == b'A' * len(body) else 'CORRUPT'), flush=True)
fresh = read_exact(fd, 7)
print('fresh ' + fresh.hex(), flush=True)
`,
      port.linkPath!,
    );
    await fw.waitLine((l) => l === 'opened');

    const chunk = Buffer.alloc(4096, 'A');
    const total = 5 * 1024 * 1024;
    let maxPending = 0;
    let timerFired = 0;
    for (let written = 0; written < total; written += chunk.length) {
      expect(() => port.write(chunk)).not.toThrow();
      maxPending = Math.max(maxPending, port.pendingBytes());
      if ((written / chunk.length) % 64 === 0) {
        // Yield to the event loop: a timer must still fire while the queue is stuck.
        await new Promise<void>((r) => setTimeout(() => (timerFired++, r()), 1));
      }
    }
    port.write(Buffer.from('<END>'));
    maxPending = Math.max(maxPending, port.pendingBytes());
    await new Promise<void>((r) => setTimeout(() => (timerFired++, r()), 20));

    expect(timerFired).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(bound);
    expect(port.pendingBytes()).toBeGreaterThan(0); // still stuck: the host is not reading
    expect(overflowEvents).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(total - 2 * bound - 64 * 1024);

    fw.send('go\n');
    const drained = await fw.waitLine((l) => l.startsWith('drained'));
    const [, count, quality] = drained.split(' ');
    expect(quality).toBe('clean');
    // Every byte was either delivered (in order) or counted as dropped.
    expect(Number(count) + dropped).toBe(total + 5);
    expect(port.pendingBytes()).toBe(0);

    port.write(Buffer.from('FRESH\r\n'));
    const fresh = await fw.waitLine((l) => l.startsWith('fresh'));
    expect(fresh).toBe(`fresh ${Buffer.from('FRESH\r\n').toString('hex')}`);
    expect((await fw.exited).code).toBe(0);
  }, 60_000);

  it('preserves byte order across many small writes while the kernel buffer fills', async () => {
    const port = await open({ link: uniqueLink(), maxQueueBytes: 4 * 1024 * 1024 });
    let overflow = 0;
    port.on('overflow', (n) => (overflow += n));
    const total = 600_000;
    const fw = firmware(
      PY_PRELUDE +
        String.raw`
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
print('opened', flush=True)
n = int(sys.argv[2])
data = read_exact(fd, n)
expected = bytes(i % 251 for i in range(n))
print('ok' if data == expected else 'MISMATCH at %d' % next(i for i in range(n) if data[i] != expected[i]))
`,
      port.linkPath!,
      String(total),
    );
    await fw.waitLine((l) => l === 'opened');
    const all = Buffer.from(Array.from({ length: total }, (_, i) => i % 251));
    let off = 0;
    let size = 1;
    while (off < total) {
      const n = Math.min(size, total - off);
      port.write(all.subarray(off, off + n));
      off += n;
      size = (size * 7 + 3) % 97 || 1; // 1..96-byte writes
      if (off % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const res = await fw.exited;
    expect(res.stderr).toBe('');
    expect(res.lines).toEqual(['opened', 'ok']);
    expect(overflow).toBe(0);
  }, 60_000);

  it('does not lose host bytes sent before the first data listener', async () => {
    const port = await open({ link: uniqueLink() });
    const fw = firmware(
      String.raw`
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
os.write(fd, b'early bytes\r\n')
print('sent', flush=True)
sys.stdin.readline()
`,
      port.linkPath!,
    );
    await fw.waitLine((l) => l === 'sent');
    await new Promise((r) => setTimeout(r, 20));
    expect((await collect(port, 13)).toString('latin1')).toBe('early bytes\r\n');
    fw.send('\n');
    await fw.exited;
  }, 30_000);

  it('does not leak its slave descriptor into child processes', async () => {
    const port = await open();
    const fw = firmware(String.raw`
import os
for f in os.listdir('/proc/self/fd'):
    try:
        print(os.readlink('/proc/self/fd/' + f))
    except OSError:
        pass
`);
    const res = await fw.exited;
    expect(res.lines.length).toBeGreaterThan(0);
    expect(res.lines).not.toContain(port.devicePath);
  });
});

describe('PtyPort link', () => {
  it('publishes a symlink to /dev/pts/N and removes it on close (idempotent)', async () => {
    const link = uniqueLink();
    const port = await open({ link });
    expect(port.linkPath).toBe(link);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe(port.devicePath);
    expect(fs.existsSync(port.devicePath)).toBe(true);
    // No temporary names left behind.
    expect(fs.readdirSync(path.dirname(link)).filter((f) => f.includes(path.basename(link)))).toEqual([
      path.basename(link),
    ]);

    await port.close();
    await port.close();
    expect(fs.existsSync(link)).toBe(false);
    expect(() => fs.lstatSync(link)).toThrow();
    expect(() => port.write(Buffer.from('after close'))).not.toThrow();
    expect(port.pendingBytes()).toBe(0);
  });

  it('replaces a stale symlink atomically', async () => {
    const link = uniqueLink();
    fs.symlinkSync('/dev/pts/does-not-exist', link);
    const port = await open({ link });
    expect(fs.readlinkSync(link)).toBe(port.devicePath);
  });

  it('leaves the link alone on close if someone else re-pointed it', async () => {
    const link = uniqueLink();
    const port = await open({ link });
    fs.unlinkSync(link);
    fs.symlinkSync('/dev/null', link);
    await port.close();
    expect(fs.readlinkSync(link)).toBe('/dev/null');
  });

  it('refuses a link path that is a regular file or a directory, without touching it', async () => {
    const file = uniqueLink();
    fs.writeFileSync(file, 'precious');
    await expect(open({ link: file })).rejects.toThrow(
      `link path ${file} exists and is not a symlink; choose another --link`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('precious');

    const dir = uniqueLink();
    fs.mkdirSync(dir);
    await expect(open({ link: dir })).rejects.toThrow(/exists and is not a symlink/);
    expect(fs.statSync(dir).isDirectory()).toBe(true);
  });

  it('refuses a link in a missing directory with a clear error', async () => {
    const link = path.join(uniqueLink(), 'sub', 'vmodem0');
    await expect(open({ link })).rejects.toThrow(/directory .* does not exist/);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a link in an unwritable directory', async () => {
    const dir = uniqueLink();
    fs.mkdirSync(dir, { mode: 0o555 });
    await expect(open({ link: path.join(dir, 'vmodem0') })).rejects.toThrow(/not writable/);
  });
});
