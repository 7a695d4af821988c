/**
 * `npm run bench:many`: many idle modems in one process. Starts `startVmodem({ count: N,
 * mqttPort: 0, link: <tmp dir>/vm0, timing: 'fast' })` (N = 200 by default), times the start, lets
 * the process settle (idle, then several full garbage collections), and reports the resident set
 * size (process.memoryUsage().rss) against the issue's target: 200 idle modems under 300 MB RSS.
 * Then a firmware process checks that the first and the last modem answer `AT` through their PTYs,
 * and the whole vmodem is stopped (timed too).
 *
 * Options (flag or environment variable):
 *   --count N     BENCH_COUNT    modems (default 200)
 *   --settle MS   BENCH_SETTLE   idle time before measuring (default 3000)
 *   --json        BENCH_JSON=1   only the JSON line
 *
 * Every modem holds a PTY (the kernel's pool: /proc/sys/kernel/pty/max, in use: .../nr) and a few
 * file descriptors (PTY master and slave, its fault proxy's Unix socket, the broker connection
 * when the firmware connects). Both limits are checked first. A miss of the target is reported,
 * never an exit code; only a failure to run exits non-zero.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startVmodem, type RunningVmodem } from '../src/vmodem.js';

const TARGET_COUNT = 200;
const TARGET_RSS_MB = 300;
const MB = 1024 * 1024;

function option(flag: string, env: string, fallback: number): number {
  const i = process.argv.indexOf(flag);
  const raw = i >= 0 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench:many: ${flag} must be a whole number ≥ 1, not ${raw}\n`);
    process.exit(2);
  }
  return n;
}

const count = option('--count', 'BENCH_COUNT', TARGET_COUNT);
const settleMs = option('--settle', 'BENCH_SETTLE', 3000);
const jsonOnly = process.argv.includes('--json') || process.env.BENCH_JSON === '1';
const say = (s = '') => {
  if (!jsonOnly) process.stdout.write(`${s}\n`);
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

async function readNumber(file: string): Promise<number | undefined> {
  try {
    return Number((await readFile(file, 'utf8')).trim());
  } catch {
    return undefined;
  }
}

/** Soft limit on open files (from /proc/self/limits). */
async function openFileLimit(): Promise<number | undefined> {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(await readFile('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : undefined;
  } catch {
    return undefined;
  }
}

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

/** RSS after full collections; the median of a few samples. */
async function settledRss(): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    if (gc) {
      gc();
      await sleep(50);
      gc();
    }
    await sleep(100);
    samples.push(process.memoryUsage().rss);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const mb = (n: number) => Math.round((n / MB) * 10) / 10;

/** A firmware process (python, stdlib only) that sends `AT\r` on each link and prints what came back. */
async function checkModems(links: string[]): Promise<Record<string, string>> {
  const py = `
import json, os, select, sys, termios, tty, time
out = {}
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    termios.tcflush(fd, termios.TCIOFLUSH)
    os.write(fd, b"ATE0\\r")
    buf = b""
    deadline = time.monotonic() + 5
    while b"OK\\r\\n" not in buf and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            buf += os.read(fd, 4096)
    os.write(fd, b"AT+CGSN\\r")
    buf = b""
    deadline = time.monotonic() + 5
    while b"OK\\r\\n" not in buf and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            buf += os.read(fd, 4096)
    out[p] = buf.decode("latin1")
    os.close(fd)
print(json.dumps(out))
`;
  const { stdout } = await promisify(execFile)('python3', ['-c', py, ...links], { timeout: 30_000 });
  return JSON.parse(stdout) as Record<string, string>;
}

async function main(): Promise<void> {
  const ptyMax = await readNumber('/proc/sys/kernel/pty/max');
  const ptyNr = await readNumber('/proc/sys/kernel/pty/nr');
  const fdLimit = await openFileLimit();
  say(`bench:many — ${count} idle modems in one process (node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${mb(os.totalmem())} MB RAM)`);
  say(`  PTYs: ${ptyNr ?? '?'} in use of kernel.pty.max ${ptyMax ?? '?'}; open-file limit ${fdLimit ?? '?'}`);
  if (ptyMax !== undefined && ptyNr !== undefined && ptyMax - ptyNr < count) {
    throw new Error(
      `only ${ptyMax - ptyNr} PTYs are free (kernel.pty.max ${ptyMax}, ${ptyNr} in use) and ${count} are needed; raise it with \`sysctl -w kernel.pty.max=${ptyNr + count + 64}\` or use --count`,
    );
  }
  if (!gc) say('  note: run with --expose-gc (npm run bench:many does) for a settled RSS; without it the figure includes uncollected garbage');

  if (gc) gc();
  const fds0 = await openFds();
  const rss0 = await settledRss();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmodem-bench-many-'));
  let vm: RunningVmodem | undefined;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    vm = await startVmodem({ count, mqttPort: 0, link: path.join(dir, 'vm0'), timing: 'fast' });
  } catch (err) {
    clearInterval(sampler);
    await rm(dir, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'EMFILE' || /EMFILE|too many open files/i.test(e.message)
        ? ` — the open-file limit (${fdLimit}) is too low for ${count} modems; raise it (ulimit -n 8192) or use --count`
        : /pty|ptmx|ENOSPC|EAGAIN/i.test(e.message)
          ? ' — out of PTYs? see /proc/sys/kernel/pty/max and /proc/sys/kernel/pty/nr'
          : '';
    throw new Error(`starting ${count} modems failed: ${e.message}${hint}`, { cause: err });
  }
  const startMs = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  say(`  started ${vm.modems.length} modems in ${Math.round(startMs)} ms (${(startMs / count).toFixed(1)} ms each); broker ${vm.brokerUrl}`);

  await sleep(settleMs);
  const rss = await settledRss();
  const mem = process.memoryUsage();
  const fds = await openFds();
  const ptyNrAfter = await readNumber('/proc/sys/kernel/pty/nr');

  // Sanity: the first and the last modem answer through their PTYs (after the measurement).
  const first = vm.modems[0]!;
  const last = vm.modems[vm.modems.length - 1]!;
  let answered = false;
  let checkError: string | undefined;
  try {
    const got = await checkModems([first.linkPath!, last.linkPath!]);
    answered = [first, last].every((m) => (got[m.linkPath!] ?? '').includes(m.imei) && (got[m.linkPath!] ?? '').endsWith('OK\r\n'));
    if (!answered) checkError = `unexpected answers: ${JSON.stringify(got)}`;
  } catch (err) {
    checkError = (err as Error).message;
  }

  const t1 = performance.now();
  await vm.stop();
  const stopMs = performance.now() - t1;
  await rm(dir, { recursive: true, force: true });

  const met = count >= TARGET_COUNT && rss < TARGET_RSS_MB * MB;
  const perModem = (rss - rss0) / count;
  say('');
  say(`  RSS, settled:        ${mb(rss)} MB   (before start ${mb(rss0)} MB; ${(perModem / 1024).toFixed(0)} KB per modem)`);
  say(`  RSS, peak:           ${mb(peak)} MB   (during start-up)`);
  say(`  heap used / total:   ${mb(mem.heapUsed)} / ${mb(mem.heapTotal)} MB; external ${mb(mem.external)} MB, array buffers ${mb(mem.arrayBuffers)} MB`);
  say(`  open files:          ${fds} (${((fds - fds0) / count).toFixed(1)} per modem); PTYs in use ${ptyNrAfter ?? '?'}`);
  say(`  start-up:            ${Math.round(startMs)} ms;  stop: ${Math.round(stopMs)} ms`);
  say(`  first/last modem answer AT through the PTY: ${answered ? 'yes' : `NO (${checkError})`}`);
  say('');
  say(
    `  target: ${TARGET_COUNT} idle modems under ${TARGET_RSS_MB} MB RSS — ${
      count < TARGET_COUNT ? `not measured (only ${count} modems)` : met ? `MET (${mb(rss)} MB)` : `MISSED (${mb(rss)} MB)`
    }`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'many-modems',
      count,
      node: process.version,
      startMs: Math.round(startMs),
      stopMs: Math.round(stopMs),
      rssBeforeMB: mb(rss0),
      rssMB: mb(rss),
      rssPeakMB: mb(peak),
      perModemKB: Math.round(perModem / 1024),
      heapUsedMB: mb(mem.heapUsed),
      externalMB: mb(mem.external),
      fds,
      fdsPerModem: Math.round(((fds - fds0) / count) * 10) / 10,
      ptyMax,
      ptyNrBefore: ptyNr,
      ptyNrAfter,
      answered,
      gc: Boolean(gc),
      targetMB: TARGET_RSS_MB,
      met,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:many: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
