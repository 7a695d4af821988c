/**
 * `npm run bench`: AT round trips (`AT\r` → `\r\nOK\r\n`) over the real PTY path, measured
 * against two responders in one run:
 *
 *   floor   openPtyPort() (the same PTY machinery vmodem uses) with a trivial handler that
 *           answers every `\r` with `\r\nOK\r\n`: what the PTY + Node event loop allow.
 *   vmodem  a real startVmodem() (profile quectel-ec200, embedded broker on port 0, fast timing).
 *
 * The client is a separate process playing the firmware: benchmarks/rt-client.c, compiled with
 * `cc -O2` into a temp dir at run time (a Python client tops out near the floor itself, ~8–11k/s),
 * or benchmarks/rt_client.py when no C compiler is found. It sends one `AT\r` at a time and stops
 * the clock when it has read `OK\r\n`.
 *
 * Options (flag or environment variable):
 *   --n N          BENCH_N         measured round trips per target (default 20000)
 *   --warmup N     BENCH_WARMUP    warm-up round trips per target (default 2000)
 *   --client K     BENCH_CLIENT    c | python (default c, python when cc is missing)
 *   --echo         BENCH_ECHO=1    leave vmodem's echo on (default: send ATE0 first)
 *   --profile      BENCH_PROFILE=1 CPU-profile each target (in-process inspector) and print the
 *                                  functions with the most self time; numbers are then distorted
 *   --profile-dir D BENCH_PROFILE_DIR  also write the .cpuprofile files there
 *
 * Targets (issue): vmodem ≥ 8,000 round trips/s and p50 ≤ 1.5× the floor's. A miss is reported,
 * never an exit code: this is a benchmark, not a test. Plain-text table first, one JSON line last.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Session } from 'node:inspector/promises';
import { openPtyPort } from '../src/port/pty-port.js';
import { startVmodem } from '../src/vmodem.js';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const TARGET_RATE = 8000;
const TARGET_P50_RATIO = 1.5;

// ---------------------------------------------------------------- options

interface Options {
  n: number;
  warmup: number;
  client: 'c' | 'python';
  echo: boolean;
  profile: boolean;
  profileDir: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const env = process.env;
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (['n', 'warmup', 'client', 'profile-dir'].includes(a.slice(2))) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      flags.set(a.slice(2), v);
    } else flags.set(a.slice(2), true);
  }
  const str = (flag: string, envName: string): string | undefined => {
    const f = flags.get(flag);
    return typeof f === 'string' ? f : env[envName];
  };
  const bool = (flag: string, envName: string): boolean =>
    flags.get(flag) === true || flags.get(flag) === '1' || ['1', 'true', 'yes'].includes(env[envName] ?? '');
  const int = (flag: string, envName: string, dflt: number, min: number): number => {
    const s = str(flag, envName);
    if (s === undefined || s === '') return dflt;
    const v = Number(s.replace(/_/g, ''));
    if (!Number.isInteger(v) || v < min) throw new Error(`--${flag} / ${envName} must be an integer ≥ ${min}, got ${s}`);
    return v;
  };
  const client = str('client', 'BENCH_CLIENT') ?? 'c';
  if (client !== 'c' && client !== 'python') throw new Error(`--client must be c or python, got ${client}`);
  for (const k of flags.keys()) {
    if (!['n', 'warmup', 'client', 'echo', 'profile', 'profile-dir'].includes(k)) throw new Error(`unknown option --${k}`);
  }
  return {
    n: int('n', 'BENCH_N', 20_000, 1),
    warmup: int('warmup', 'BENCH_WARMUP', 2_000, 0),
    client,
    echo: bool('echo', 'BENCH_ECHO'),
    profile: bool('profile', 'BENCH_PROFILE') || str('profile-dir', 'BENCH_PROFILE_DIR') !== undefined,
    profileDir: str('profile-dir', 'BENCH_PROFILE_DIR'),
  };
}

// ---------------------------------------------------------------- client

interface ClientCmd {
  kind: 'c' | 'python';
  argv0: string;
  args: string[];
  describe: string;
}

/** Compile rt-client.c into `tmp`, or fall back to the Python client. */
async function prepareClient(want: 'c' | 'python', tmp: string): Promise<{ cmd: ClientCmd; note?: string }> {
  const py: ClientCmd = {
    kind: 'python',
    argv0: 'python3',
    args: [path.join(HERE, 'rt_client.py')],
    describe: `python3 rt_client.py (${await version('python3', ['--version'])})`,
  };
  if (want === 'python') return { cmd: py };
  const cc = process.env.CC || 'cc';
  const bin = path.join(tmp, 'rt-client');
  try {
    await execFileP(cc, ['-O2', '-o', bin, path.join(HERE, 'rt-client.c')], { timeout: 60_000 });
  } catch (err) {
    return { cmd: py, note: `C client unavailable (${cc}: ${firstLine((err as Error).message)}); using the Python client, which may itself be the bottleneck` };
  }
  return { cmd: { kind: 'c', argv0: bin, args: [], describe: `rt-client.c, ${cc} -O2 (${await version(cc, ['--version'])})` } };
}

async function version(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { timeout: 10_000 });
    return firstLine(stdout || stderr);
  } catch {
    return 'version unknown';
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0]!.trim();
}

interface ClientResult {
  client: string;
  drained: number;
  init: { cmd: string; ok: boolean; bytes: number }[];
  n: number;
  elapsed_ns: number;
  min_ns: number;
  mean_ns: number;
  p50_ns: number;
  p90_ns: number;
  p99_ns: number;
  p999_ns: number;
  max_ns: number;
  unexpected: number;
  cpu_us: number;
  reply_bytes: number;
  reply_hex: string;
}

function runClient(cmd: ClientCmd, device: string, opts: Options, init: string[]): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.argv0, [...cmd.args, device, String(opts.warmup), String(opts.n), ...init], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`client exited with ${signal ?? code}: ${out.trim()}`));
      try {
        resolve(JSON.parse(out) as ClientResult);
      } catch {
        reject(new Error(`client printed no JSON: ${out}`));
      }
    });
  });
}

// ---------------------------------------------------------------- measuring one target

interface Measured {
  name: string;
  rate: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
  /** CPU the Node process used per round trip (µs), and the client's. */
  node_cpu_us_per_rt: number;
  client_cpu_us_per_rt: number;
  init: ClientResult['init'];
  reply: string;
  unexpected: number;
  drained: number;
  hot?: HotSpot[];
}

interface HotSpot {
  fn: string;
  where: string;
  self_pct: number;
}

async function measure(
  name: string,
  device: string,
  client: ClientCmd,
  opts: Options,
  init: string[],
): Promise<Measured> {
  let session: Session | undefined;
  if (opts.profile) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  const cpu0 = process.cpuUsage();
  const r = await runClient(client, device, opts, init);
  const cpu = process.cpuUsage(cpu0);
  let hot: HotSpot[] | undefined;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    hot = hotSpots(profile);
    if (opts.profileDir) {
      const file = path.join(opts.profileDir, `at-roundtrip-${name}-${Date.now()}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.error(`# wrote ${file}`);
    }
  }
  const us = (ns: number): number => ns / 1000;
  // Node CPU covers the client's whole life (incl. warm-up), so divide by every round trip.
  const total = opts.warmup + opts.n + init.length;
  return {
    name,
    rate: r.n / (r.elapsed_ns / 1e9),
    p50_us: us(r.p50_ns),
    p90_us: us(r.p90_ns),
    p99_us: us(r.p99_ns),
    p999_us: us(r.p999_ns),
    max_us: us(r.max_ns),
    mean_us: us(r.mean_ns),
    node_cpu_us_per_rt: (cpu.user + cpu.system) / total,
    client_cpu_us_per_rt: r.cpu_us / r.n,
    init: r.init,
    reply: JSON.stringify(Buffer.from(r.reply_hex, 'hex').toString('latin1')),
    unexpected: r.unexpected,
    drained: r.drained,
    hot,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function, top 15, as a share of all samples (idle included). */
function hotSpots(profile: { nodes: ProfileNode[] }): HotSpot[] {
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const e = byFn.get(key) ?? { fn: functionName || '(anonymous)', where, hits: 0 };
    e.hits += hits;
    byFn.set(key, e);
  }
  return [...byFn.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, 15)
    .map((e) => ({ fn: e.fn, where: e.where, self_pct: round((100 * e.hits) / Math.max(1, total), 1) }));
}

function shortUrl(url: string): string {
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const root = path.dirname(HERE);
  if (p.startsWith(root + path.sep)) return path.relative(root, p).replace(/^node_modules\//, 'nm/');
  return p;
}

// ---------------------------------------------------------------- the two targets

const OK = Buffer.from('\r\nOK\r\n');

async function benchFloor(client: ClientCmd, opts: Options): Promise<Measured> {
  const port = await openPtyPort();
  port.on('data', (chunk: Buffer) => {
    let lines = 0;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0d) lines++;
    if (lines === 1) port.write(OK);
    else if (lines > 1) port.write(Buffer.concat(Array<Buffer>(lines).fill(OK)));
  });
  try {
    return await measure('floor', port.devicePath, client, opts, []);
  } finally {
    await port.close();
  }
}

async function benchVmodem(client: ClientCmd, opts: Options, tmp: string): Promise<Measured> {
  const vm = await startVmodem({
    profile: 'quectel-ec200',
    link: path.join(tmp, 'vmodem-bench'),
    mqttPort: 0,
    timing: 'fast',
  });
  try {
    return await measure('vmodem', vm.linkPath ?? vm.devicePath, client, opts, opts.echo ? [] : ['ATE0']);
  } finally {
    await vm.stop();
  }
}

// ---------------------------------------------------------------- report

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
    .join('\n');
}

async function machine(): Promise<Record<string, string | number>> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    arch: process.arch,
    mem_gb: round(os.totalmem() / 2 ** 30, 1),
    load1: round(os.loadavg()[0]!, 2),
  };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'vmodem-bench-'));
  try {
    const m = await machine();
    const { cmd: client, note } = await prepareClient(opts.client, tmp);
    console.log('AT round trips over the PTY: AT\\r -> \\r\\nOK\\r\\n, one at a time');
    console.log(`machine  ${m.cpu}, ${m.cores} cores, ${m.mem_gb} GB, ${m.kernel} (${m.arch}), node ${m.node}, load ${m.load1}`);
    console.log(`client   ${client.describe}, separate process`);
    console.log(`run      ${fmt(opts.warmup)} warm-up + ${fmt(opts.n)} measured round trips per target` +
      (opts.profile ? '; CPU PROFILER ON (figures distorted)' : ''));
    if (note) console.log(`note     ${note}`);

    const floor = await benchFloor(client, opts);
    const vmodem = await benchVmodem(client, opts, tmp);

    const initDesc = vmodem.init.length === 0
      ? 'echo left ON (vmodem replies include the echoed AT\\r)'
      : vmodem.init.map((i) => `${i.cmd} -> ${i.ok ? 'OK' : 'ERROR'}`).join(', ') + ' (echo off)';
    console.log(`vmodem   profile quectel-ec200, embedded broker on port 0, timing fast; ${initDesc}`);
    console.log();
    const rows = [
      ['target', 'rt/s', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'node CPU µs/rt', 'client CPU µs/rt', 'reply'],
      ...[floor, vmodem].map((r) => [
        r.name,
        fmt(r.rate),
        fmt(r.p50_us, 1),
        fmt(r.p90_us, 1),
        fmt(r.p99_us, 1),
        fmt(r.p999_us, 1),
        fmt(r.max_us),
        fmt(r.node_cpu_us_per_rt, 1),
        fmt(r.client_cpu_us_per_rt, 1),
        r.reply + (r.unexpected > 0 ? ` (${fmt(r.unexpected)} not exactly \\r\\nOK\\r\\n)` : ''),
      ]),
    ];
    console.log(table(rows));

    const rateRatio = vmodem.rate / floor.rate;
    const p50Ratio = vmodem.p50_us / floor.p50_us;
    const ratePass = vmodem.rate >= TARGET_RATE;
    const p50Pass = p50Ratio <= TARGET_P50_RATIO;
    console.log();
    console.log(`vmodem/floor  rate ×${fmt(rateRatio, 2)}   p50 ×${fmt(p50Ratio, 2)}`);
    console.log(`target rate   vmodem ≥ ${fmt(TARGET_RATE)} rt/s: ${fmt(vmodem.rate)} → ${ratePass ? 'PASS' : 'MISS'}`);
    console.log(`target p50    vmodem ≤ ${TARGET_P50_RATIO}× floor: ×${fmt(p50Ratio, 2)} → ${p50Pass ? 'PASS' : 'MISS'}`);

    for (const r of [floor, vmodem]) {
      if (!r.hot) continue;
      console.log();
      console.log(`hot spots (${r.name}): self time, % of all samples incl. idle`);
      console.log(table([['%', 'function', 'where'], ...r.hot.map((h) => [fmt(h.self_pct, 1), h.fn, h.where])]));
    }

    const strip = (r: Measured): Record<string, unknown> => ({
      rate: round(r.rate),
      p50_us: round(r.p50_us, 1),
      p90_us: round(r.p90_us, 1),
      p99_us: round(r.p99_us, 1),
      p999_us: round(r.p999_us, 1),
      max_us: round(r.max_us, 1),
      mean_us: round(r.mean_us, 1),
      node_cpu_us_per_rt: round(r.node_cpu_us_per_rt, 2),
      client_cpu_us_per_rt: round(r.client_cpu_us_per_rt, 2),
      unexpected_replies: r.unexpected,
      ...(r.init.length ? { init: r.init.map((i) => `${i.cmd}:${i.ok ? 'OK' : 'ERROR'}`) } : {}),
      ...(r.hot ? { hot: r.hot } : {}),
    });
    console.log();
    console.log(JSON.stringify({
      bench: 'at-roundtrip',
      machine: m,
      config: { n: opts.n, warmup: opts.warmup, client: client.kind, echo: opts.echo, profile: opts.profile },
      floor: strip(floor),
      vmodem: strip(vmodem),
      ratio: { rate: round(rateRatio, 3), p50: round(p50Ratio, 3) },
      targets: {
        rate: { min: TARGET_RATE, value: round(vmodem.rate), pass: ratePass },
        p50_ratio: { max: TARGET_P50_RATIO, value: round(p50Ratio, 3), pass: p50Pass },
      },
    }));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

main().then(
  // The embedded broker / MQTT client may leave handles behind; a benchmark should just end.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
