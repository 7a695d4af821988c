/**
 * `npm run bench:start` (issue 12 §3): cold start, from the exec of the built CLI
 *
 *   bin/vmodem start --link <tmp>/vm --mqtt-port 0 --control-port 0 --timing fast
 *
 * (default profile quectel-ec200, embedded broker) until a separate client process, which polls
 * for the link, opens the PTY and sends `AT\r`, reads `OK`. In the same run, alternating, the
 * baselines that say what the machine allows at that moment:
 *
 *   node     exec of `node -e ""` until it exits
 *   floor    exec of a Node script that loads node-pty's native binding, opens a PTY, publishes
 *            the link and answers every `\r` with `\r\nOK\r\n` (benchmarks/cold-floor.mjs), until
 *            the same client reads `OK`
 *   vmodem   the command above, until the client reads `OK`; also the time until its banner is
 *            printed (the banner, --ready-file and `ctl wait-ready` mean everything is ready)
 *
 * The client (Python, stdlib only, started and ready before the clock starts) polls for the link
 * every 0.5 ms, opens it, sets raw mode, writes `AT\r` and stops the clock at `OK\r\n` with
 * CLOCK_MONOTONIC, the clock process.hrtime() reads too. Every run is a new process; the runs
 * are split into rounds, one run of each target per round, in alternating order (node floor
 * vmodem, vmodem floor node, …), so whatever else the machine does hits all alike. Median and
 * p90 over the runs; the load average is printed.
 *
 * Options (environment): BENCH_N (runs per target, 15), BENCH_WARMUP (1 unmeasured run of each
 * first: page cache, the state dir's TLS material), BENCH_ARGS (extra `vmodem start` arguments),
 * BENCH_BIN (another build's bin/vmodem), BENCH_BEFORE (a second build's bin/vmodem, measured as
 * one more target in the same rounds: before/after a change under the same load).
 * The CLI runs from dist/: `npm run build` first. A benchmark, not a test: a missed goal is
 * printed, never an exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const BIN = process.env.BENCH_BIN ? path.resolve(process.env.BENCH_BIN) : path.join(ROOT, 'bin', 'vmodem');
const FLOOR = path.join(HERE, 'cold-floor.mjs');
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const N = env('BENCH_N', 15);
const WARMUP = env('BENCH_WARMUP', 1);
const EXTRA = (process.env.BENCH_ARGS ?? '').split(/\s+/).filter(Boolean);
const BEFORE = process.env.BENCH_BEFORE ? path.resolve(process.env.BENCH_BEFORE) : undefined;
const GOAL_MS = 300;
const TIMEOUT_MS = 20_000;

/**
 * The firmware side: poll for the link, open it, `AT\r`, wait for `OK\r\n`. Prints "ready" once
 * it polls, then "ok <monotonic ns>" (or "fail <why>").
 */
const CLIENT = String.raw`
import os, sys, time, select, termios, tty
path = sys.argv[1]
sys.stdout.write("ready\n"); sys.stdout.flush()
deadline = time.monotonic() + 20
while True:
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.stdout.write("fail no link\n"); sys.exit(1)
        time.sleep(0.0005)
tty.setraw(fd)
os.write(fd, b"AT\r")
buf = b""
while not buf.endswith(b"OK\r\n"):
    if not select.select([fd], [], [], max(0, deadline - time.monotonic()))[0]:
        sys.stdout.write("fail no OK, got %r\n" % buf); sys.exit(1)
    buf += os.read(fd, 4096)
t = time.monotonic_ns()
sys.stdout.write("ok %d\n" % t); sys.stdout.flush()
os.close(fd)
`;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** Lines of a child's stdout, awaited one at a time. */
function lines(child: ReturnType<typeof spawn>): () => Promise<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  let ended = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    buf += s;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      queue.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    wake?.();
  });
  child.stdout!.on('end', () => {
    ended = true;
    wake?.();
  });
  return () =>
    new Promise((resolve, reject) => {
      const take = () => {
        if (queue.length > 0) {
          wake = undefined;
          resolve(queue.shift()!);
        } else if (ended) {
          wake = undefined;
          reject(new Error('ended'));
        }
      };
      wake = take;
      take();
    });
}

function exited(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS))),
  ]);
}

interface Sample {
  ok: number;
  ready?: number;
}

/** Exec of `node -e ""` until it exits. */
async function bareNode(): Promise<Sample> {
  const t0 = now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await exited(child);
  return { ok: now() - t0 };
}

/** Exec of `args` until the client reads OK on `link` (and, with `banner`, until it printed it). */
async function untilOk(dir: string, link: string, args: string[], banner: boolean): Promise<Sample> {
  const client = spawn('python3', ['-S', '-c', CLIENT, link], { stdio: ['ignore', 'pipe', 'inherit'] });
  const fromClient = lines(client);
  if ((await within(fromClient(), 'client')) !== 'ready') throw new Error('client did not start');
  let stderr = '';
  const t0 = now();
  const target = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  target.stderr!.setEncoding('utf8');
  target.stderr!.on('data', (s: string) => (stderr += s.slice(0, 4000)));
  let ready: number | undefined;
  let out = '';
  const printed = new Promise<void>((resolve) => {
    target.stdout!.setEncoding('utf8');
    target.stdout!.on('data', (s: string) => {
      out += s;
      if (ready === undefined && out.includes(banner ? 'Ctrl+C stops.' : 'ready')) {
        ready = now() - t0;
        resolve();
      }
    });
  });
  try {
    const died = exited(target).then(() => `target exited (${target.exitCode ?? target.signalCode})`);
    const reply = await within(Promise.race([fromClient(), died]), 'client');
    const m = /^ok (\d+)$/.exec(reply);
    if (!m) throw new Error(`client: ${reply}; target stderr: ${stderr}`);
    if (banner) await within(printed, 'banner');
    return { ok: Number(BigInt(m[1]!)) / 1e6 - t0, ...(banner ? { ready } : {}) };
  } catch (err) {
    throw new Error(`${(err as Error).message}; target stderr: ${stderr.trim()}`, { cause: err });
  } finally {
    client.kill();
    target.kill('SIGTERM');
    await exited(target);
    await exited(client);
  }
}

async function main(): Promise<void> {
  if (!existsSync(path.join(path.dirname(BIN), '..', 'dist', 'index.js'))) {
    console.error('cold-start: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmodem-cold-'));
  const link = path.join(dir, 'vm');
  const start = (bin: string) => [bin, 'start', '--link', link, '--mqtt-port', '0', '--control-port', '0', '--timing', 'fast', ...EXTRA];
  const targets: Record<string, () => Promise<Sample>> = {
    node: bareNode,
    floor: () => untilOk(dir, link, [FLOOR, link], false),
    vmodem: () => untilOk(dir, link, start(BIN), true),
    ...(BEFORE ? { before: () => untilOk(dir, link, start(BEFORE), true) } : {}),
  };
  const names = Object.keys(targets);
  const res: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
  const loads: number[] = [];
  try {
    for (let w = 0; w < WARMUP; w++) for (const n of names) await targets[n]!();
    for (let r = 0; r < N; r++) {
      const order = r % 2 === 0 ? names : [...names].reverse();
      for (const n of order) res[n]!.push(await targets[n]!());
      loads.push(os.loadavg()[0]!);
      const last = res.vmodem!.at(-1)!;
      const before = BEFORE ? ` before ${f(res.before!.at(-1)!.ok)}` : '';
      process.stderr.write(`run ${r + 1}/${N}: node ${f(res.node!.at(-1)!.ok)} floor ${f(res.floor!.at(-1)!.ok)} vmodem ${f(last.ok)} (banner ${f(last.ready ?? NaN)})${before} ms  (load ${load()})\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const row = (xs: number[]) => ({ p50: median(xs), p90: pct(xs, 90), min: Math.min(...xs), max: Math.max(...xs) });
  const stats = {
    node: row(res.node!.map((s) => s.ok)),
    floor: row(res.floor!.map((s) => s.ok)),
    vmodem: row(res.vmodem!.map((s) => s.ok)),
    banner: row(res.vmodem!.map((s) => s.ready!)),
    ...(BEFORE ? { before: row(res.before!.map((s) => s.ok)), beforeBanner: row(res.before!.map((s) => s.ready!)) } : {}),
  };
  console.log(`\ncold start: exec → AT answers OK   (${N} runs each, alternating; load average ${load()}, 1-min ${f(Math.min(...loads), 2)}–${f(Math.max(...loads), 2)} during the runs; ${os.cpus().length} CPUs)`);
  console.log(`${'target'.padEnd(44)}${'p50 ms'.padStart(9)}${'p90 ms'.padStart(9)}${'min'.padStart(8)}${'max'.padStart(8)}`);
  const label: Record<string, string> = {
    node: 'node -e "" (exec → exit)',
    floor: 'node + node-pty PTY, link, OK (cold-floor)',
    vmodem: 'vmodem start → OK',
    banner: 'vmodem start → banner printed (all ready)',
    before: `BENCH_BEFORE → OK`,
    beforeBanner: `BENCH_BEFORE → banner printed`,
  };
  for (const [k, s] of Object.entries(stats)) {
    console.log(`${label[k].padEnd(44)}${f(s.p50, 1).padStart(9)}${f(s.p90, 1).padStart(9)}${f(s.min).padStart(8)}${f(s.max).padStart(8)}`);
  }
  const ratio = stats.vmodem.p50 / stats.node.p50;
  console.log(`vmodem/node ${ratio.toFixed(1)}×, vmodem/floor ${(stats.vmodem.p50 / stats.floor.p50).toFixed(1)}×; goal p50 ≤ ${GOAL_MS} ms: ${stats.vmodem.p50 <= GOAL_MS ? 'met' : 'missed'}`);
  if (stats.before) console.log(`BENCH_BEFORE (${BEFORE}) p50 ${f(stats.before.p50)} ms → vmodem ${f(stats.vmodem.p50)} ms (${(stats.before.p50 / stats.vmodem.p50).toFixed(1)}× faster)`);
  console.log(JSON.stringify({ bench: 'cold-start', n: N, ...stats, args: EXTRA, load: os.loadavg() }));
}

await main();
process.exit(0);
