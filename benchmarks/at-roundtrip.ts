/**
 * `npm run bench`: AT round trips (`AT\r` → `\r\nOK\r\n`) over the real PTY path, measured
 * against two responders in one run:
 *
 *   floor   openPtyPort() (the same PTY machinery vmodem uses) with a trivial handler that
 *           answers every `\r` with `\r\nOK\r\n`: what the PTY + Node event loop allow.
 *   vmodem  a real startVmodem() (profile quectel-ec200, embedded broker on port 0, fast timing).
 *
 * The client is a separate process playing the firmware: benchmarks/rt-client.c, compiled with
 * `cc -O2` into a temp dir at run time (a Python client costs several times the CPU per round trip
 * and can itself be the bottleneck), or benchmarks/rt_client.py when no C compiler is found. It sends one `AT\r` at a time and stops
 * the clock when it has read `OK\r\n`.
 *
 * Options (flag or environment variable):
 *   --n N          BENCH_N         measured round trips per target (default 20000)
 *   --rounds R     BENCH_ROUNDS    split them into R rounds per target, run alternately
 *                                  (floor, vmodem, vmodem, floor, ...) so that other load on the
 *                                  machine hits both alike; percentiles are over all round trips
 *                                  (default 4)
 *   --warmup N     BENCH_WARMUP    warm-up round trips before each round (default 1000)
 *   --warmup-first N BENCH_WARMUP_FIRST  ... before a target's first round instead (default 5000:
 *                                  the JIT and the garbage left by start-up settle)
 *   --client K     BENCH_CLIENT    c | python (default c, python when cc is missing)
 *   --echo         BENCH_ECHO=1    leave vmodem's echo on (default: send ATE0 first)
 *   --profile      BENCH_PROFILE=1 CPU-profile each target (in-process inspector) and print the
 *                                  functions with the most self time; numbers are then distorted
 *   --profile-dir D BENCH_PROFILE_DIR  also write the .cpuprofile files there
 *
 * Also measured, for attributing vmodem's overhead: "engine", the same modem on an in-memory port
 * in this process (no PTY, no client, no event-loop wake-ups): the JavaScript cost of one
 * `AT\r` → OK through the engine alone.
 *
 * Targets (issue): vmodem ≥ 8,000 round trips/s and p50 ≤ 1.5× the floor's. A miss is reported,
 * never an exit code: this is a benchmark, not a test. Plain-text table first, one JSON line last.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Session } from 'node:inspector/promises';
import { brokerLinkOpener } from '../src/modem/link-opener.js';
import { Modem } from '../src/modem/modem.js';
import { COMMAND_SETS } from '../src/vendors/registry.js';
import { MemoryPort } from '../src/port/memory-port.js';
import { openPtyPort } from '../src/port/pty-port.js';
import { loadProfile } from '../src/profiles/load-profile.js';
import { silentLogger } from '../src/util/logger.js';
import { startVmodem } from '../src/vmodem.js';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));

const TARGET_RATE = 8000;
const TARGET_P50_RATIO = 1.5;

// ---------------------------------------------------------------- options

interface Options {
  n: number;
  warmup: number;
  warmupFirst: number;
  rounds: number;
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
    else if (['n', 'warmup', 'warmup-first', 'rounds', 'client', 'profile-dir'].includes(a.slice(2))) {
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
    if (!['n', 'warmup', 'warmup-first', 'rounds', 'client', 'echo', 'profile', 'profile-dir'].includes(k)) throw new Error(`unknown option --${k}`);
  }
  return {
    n: int('n', 'BENCH_N', 20_000, 1),
    warmup: int('warmup', 'BENCH_WARMUP', 1_000, 0),
    warmupFirst: int('warmup-first', 'BENCH_WARMUP_FIRST', 5_000, 0),
    rounds: int('rounds', 'BENCH_ROUNDS', 4, 1),
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
  cpu_total_us: number;
  reply_bytes: number;
  reply_hex: string;
}

function runClient(
  cmd: ClientCmd,
  device: string,
  warmup: number,
  n: number,
  init: string[],
  rawFile: string,
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.argv0, [...cmd.args, device, String(warmup), String(n), ...init], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, RT_RAW: rawFile },
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

// ---------------------------------------------------------------- measuring

/** A responder the client can talk to. */
interface Target {
  name: string;
  device: string;
  /** Lines the client sends once per round before the warm-up (e.g. ATE0). */
  init: string[];
  close(): Promise<void>;
}

/** Everything measured for one target, accumulated over its rounds. */
interface Acc {
  name: string;
  lat: Uint32Array[];
  n: number;
  elapsedNs: number;
  roundRates: number[];
  /** Round trips the responder served in all (warm-up and init included). */
  served: number;
  nodeCpuUs: number;
  nodeSysUs: number;
  clientCpuUs: number;
  /** CPU used by everything else on the machine during this target's rounds (µs), and wall time. */
  otherCpuUs: number;
  wallUs: number;
  init: ClientResult['init'];
  reply: string;
  unexpected: number;
  prof?: ProfAgg;
}

interface Measured {
  name: string;
  rate: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
  round_rates: number[];
  /** CPU the Node process used per round trip (µs), and the client's. */
  node_cpu_us_per_rt: number;
  /** The kernel's share of it (system time: syscalls, PTY line discipline, wake-ups). */
  node_sys_us_per_rt: number;
  client_cpu_us_per_rt: number;
  /** Average number of cores other processes kept busy meanwhile (noise indicator). */
  other_load_cores: number;
  init: ClientResult['init'];
  reply: string;
  unexpected: number;
  hot?: HotSpots;
}

let clkTck = 100;

/** Busy CPU time of the whole machine so far (µs), from /proc/stat; undefined off Linux. */
async function machineBusyUs(): Promise<number | undefined> {
  try {
    const line = (await readFile('/proc/stat', 'latin1')).split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    return (busy * 1e6) / clkTck;
  } catch {
    return undefined;
  }
}

function newAcc(name: string, profile: boolean): Acc {
  return {
    name,
    lat: [],
    n: 0,
    elapsedNs: 0,
    roundRates: [],
    served: 0,
    nodeCpuUs: 0,
    nodeSysUs: 0,
    clientCpuUs: 0,
    otherCpuUs: 0,
    wallUs: 0,
    init: [],
    reply: '',
    unexpected: 0,
    prof: profile ? newProfAgg() : undefined,
  };
}

async function runRound(
  target: Target,
  acc: Acc,
  client: ClientCmd,
  opts: Options,
  n: number,
  tmp: string,
): Promise<void> {
  const warmup = acc.n === 0 ? Math.max(opts.warmup, opts.warmupFirst) : opts.warmup;
  const rawFile = path.join(tmp, `lat-${target.name}.bin`);
  let session: Session | undefined;
  if (acc.prof) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  const busy0 = await machineBusyUs();
  const wall0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const r = await runClient(client, target.device, warmup, n, target.init, rawFile);
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - wall0) / 1000;
  const busy1 = await machineBusyUs();
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    addProfile(acc.prof!, profile);
    if (opts.profileDir) {
      const file = path.join(opts.profileDir, `at-roundtrip-${target.name}-${Date.now()}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.error(`# wrote ${file}`);
    }
  }
  const raw = await readFile(rawFile);
  acc.lat.push(new Uint32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4).slice());
  acc.n += r.n;
  acc.elapsedNs += r.elapsed_ns;
  acc.roundRates.push(round(r.n / (r.elapsed_ns / 1e9)));
  acc.served += warmup + r.n + target.init.length;
  acc.nodeCpuUs += cpu.user + cpu.system;
  acc.nodeSysUs += cpu.system;
  acc.clientCpuUs += r.cpu_us;
  acc.wallUs += wallUs;
  if (busy0 !== undefined && busy1 !== undefined) {
    acc.otherCpuUs += Math.max(0, busy1 - busy0 - (cpu.user + cpu.system) - r.cpu_total_us);
  }
  acc.init = r.init;
  acc.reply ||= JSON.stringify(Buffer.from(r.reply_hex, 'hex').toString('latin1'));
  acc.unexpected += r.unexpected;
}

function summarize(acc: Acc): Measured {
  const all = new Uint32Array(acc.n);
  let off = 0;
  let sum = 0;
  for (const a of acc.lat) {
    all.set(a, off);
    off += a.length;
    for (let i = 0; i < a.length; i++) sum += a[i]!;
  }
  all.sort();
  const pct = (p: number): number => all[Math.round((all.length - 1) * p)]! / 1000;
  return {
    name: acc.name,
    rate: acc.n / (acc.elapsedNs / 1e9),
    p50_us: pct(0.5),
    p90_us: pct(0.9),
    p99_us: pct(0.99),
    p999_us: pct(0.999),
    max_us: all[all.length - 1]! / 1000,
    mean_us: sum / acc.n / 1000,
    round_rates: acc.roundRates,
    node_cpu_us_per_rt: acc.nodeCpuUs / acc.served,
    node_sys_us_per_rt: acc.nodeSysUs / acc.served,
    client_cpu_us_per_rt: acc.clientCpuUs / acc.n,
    other_load_cores: acc.otherCpuUs / acc.wallUs,
    init: acc.init,
    reply: acc.reply,
    unexpected: acc.unexpected,
    hot: acc.prof ? hotSpots(acc.prof) : undefined,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface HotSpot {
  fn: string;
  where: string;
  self_pct: number;
}

interface HotSpots {
  /** Share of samples in which the main thread was idle (waiting in epoll). */
  idle_pct: number;
  /** Self time by function, top 15, as a share of busy (non-idle) samples. */
  functions: HotSpot[];
  /** Self time by file (project files), "node internals", native code, GC, as a share of busy samples. */
  areas: HotSpot[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Self-time samples summed over a target's rounds. */
interface ProfAgg {
  total: number;
  idle: number;
  byFn: Map<string, { fn: string; where: string; hits: number }>;
  byArea: Map<string, number>;
}

function newProfAgg(): ProfAgg {
  return { total: 0, idle: 0, byFn: new Map(), byArea: new Map() };
}

function addProfile(agg: ProfAgg, profile: { nodes: ProfileNode[] }): void {
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    agg.total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      agg.idle += hits;
      continue;
    }
    const file = url ? shortUrl(url) : '';
    // Line numbers of tsx-transformed project files point into the generated code: leave them out.
    const where = file.startsWith('node:') ? `${file}:${lineNumber + 1}` : file;
    const key = `${functionName}@${where}`;
    const e = agg.byFn.get(key) ?? { fn: functionName || '(anonymous)', where, hits: 0 };
    e.hits += hits;
    agg.byFn.set(key, e);
    const area = SPECIAL.has(functionName)
      ? functionName
      : !file
        ? `(native) ${functionName}`
        : file.startsWith('node:')
          ? 'node internals (JS)'
          : file.startsWith('nm/')
            ? `nm/${file.split('/')[1]}`
            : file;
    agg.byArea.set(area, (agg.byArea.get(area) ?? 0) + hits);
  }
}

function hotSpots(agg: ProfAgg): HotSpots {
  const busy = Math.max(1, agg.total - agg.idle);
  const pct = (h: number): number => round((100 * h) / busy, 1);
  return {
    idle_pct: round((100 * agg.idle) / Math.max(1, agg.total), 1),
    functions: [...agg.byFn.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 15)
      .map((e) => ({ fn: e.fn, where: e.where, self_pct: pct(e.hits) })),
    areas: [...agg.byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([area, hits]) => ({ fn: area, where: '', self_pct: pct(hits) })),
  };
}

function shortUrl(url: string): string {
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const root = path.dirname(HERE);
  if (p.startsWith(root + path.sep)) return path.relative(root, p).replace(/^node_modules\//, 'nm/');
  return p;
}

// ---------------------------------------------------------------- the two targets

const OK = Buffer.from('\r\nOK\r\n');

/** The floor: the same PTY port vmodem uses, answering every CR with OK and nothing else. */
async function startFloor(): Promise<Target> {
  const port = await openPtyPort();
  port.on('data', (chunk: Buffer) => {
    let lines = 0;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0d) lines++;
    if (lines === 1) port.write(OK);
    else if (lines > 1) port.write(Buffer.concat(Array<Buffer>(lines).fill(OK)));
  });
  return { name: 'floor', device: port.devicePath, init: [], close: () => port.close() };
}

async function startVmodemTarget(opts: Options, tmp: string): Promise<Target> {
  const vm = await startVmodem({
    profile: 'quectel-ec200',
    link: path.join(tmp, 'vmodem-bench'),
    mqttPort: 0,
    timing: 'fast',
  });
  return {
    name: 'vmodem',
    device: vm.linkPath ?? vm.devicePath,
    init: opts.echo ? [] : ['ATE0'],
    close: () => vm.stop(),
  };
}

/**
 * The engine alone: the quectel-ec200 modem on a MemoryPort, driven in-process, one `AT\r` at a
 * time. Returns mean µs per round trip (over the best of 3 batches, to shed other load).
 */
async function benchEngine(n: number, warmup: number): Promise<{ mean_us: number; rate: number }> {
  const port = new MemoryPort();
  const modem = new Modem({
    profile: loadProfile('quectel-ec200'),
    port,
    log: silentLogger(),
    links: brokerLinkOpener({ plain: { host: '127.0.0.1', port: 1 } }, silentLogger()),
    commandSets: COMMAND_SETS,
    timing: 'fast',
    bootUrcs: false,
  });
  let waiting: (() => void) | undefined;
  let seen = '';
  port.host.onData((chunk) => {
    seen += chunk.toString('latin1');
    if (seen.endsWith('OK\r\n')) {
      seen = '';
      const w = waiting;
      waiting = undefined;
      w?.();
    }
  });
  const rt = (line: string): Promise<void> =>
    new Promise<void>((resolve) => {
      waiting = resolve;
      port.host.send(line);
    });
  try {
    await rt('ATE0\r');
    for (let i = 0; i < warmup; i++) await rt('AT\r');
    let best = Infinity;
    const batch = Math.max(1, Math.ceil(n / 3));
    for (let b = 0; b < 3; b++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) await rt('AT\r');
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / batch);
    }
    return { mean_us: best / 1000, rate: 1e9 / best };
  } finally {
    await modem.stop();
    await port.close();
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
    console.log(`run      ${fmt(opts.n)} measured round trips per target in ${opts.rounds} alternating rounds, ${fmt(opts.warmup)} warm-up before each (first: ${fmt(Math.max(opts.warmup, opts.warmupFirst))})` +
      (opts.profile ? '; CPU PROFILER ON (figures distorted)' : ''));
    if (note) console.log(`note     ${note}`);

    try {
      clkTck = Number((await execFileP('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
    } catch {
      /* keep 100 */
    }
    const targets = [await startFloor(), await startVmodemTarget(opts, tmp)];
    const accs = targets.map((t) => newAcc(t.name, opts.profile));
    try {
      const perRound = Math.ceil(opts.n / opts.rounds);
      for (let r = 0; r < opts.rounds; r++) {
        const n = Math.min(perRound, opts.n - r * perRound);
        if (n <= 0) break;
        const order = r % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) await runRound(targets[i]!, accs[i]!, client, opts, n, tmp);
      }
    } finally {
      for (const t of targets) await t.close();
    }
    const [floor, vmodem] = accs.map(summarize) as [Measured, Measured];
    const engine = await benchEngine(opts.n, opts.warmupFirst);

    const initDesc = vmodem.init.length === 0
      ? 'echo left ON (vmodem replies include the echoed AT\\r)'
      : vmodem.init.map((i) => `${i.cmd} -> ${i.ok ? 'OK' : 'ERROR'}`).join(', ') + ' (echo off)';
    console.log(`vmodem   profile quectel-ec200, embedded broker on port 0, timing fast; ${initDesc}`);
    console.log();
    const rows = [
      ['target', 'rt/s', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'node CPU µs/rt (sys)', 'client CPU µs/rt', 'other load', 'reply'],
      ...[floor, vmodem].map((r) => [
        r.name,
        fmt(r.rate),
        fmt(r.p50_us, 1),
        fmt(r.p90_us, 1),
        fmt(r.p99_us, 1),
        fmt(r.p999_us, 1),
        fmt(r.max_us),
        `${fmt(r.node_cpu_us_per_rt, 1)} (${fmt(r.node_sys_us_per_rt, 1)})`,
        fmt(r.client_cpu_us_per_rt, 1),
        fmt(r.other_load_cores, 2),
        r.reply + (r.unexpected > 0 ? ` (${fmt(r.unexpected)} not exactly \\r\\nOK\\r\\n)` : ''),
      ]),
    ];
    console.log(table(rows));

    const rateRatio = vmodem.rate / floor.rate;
    const p50Ratio = vmodem.p50_us / floor.p50_us;
    const ratePass = vmodem.rate >= TARGET_RATE;
    const p50Pass = p50Ratio <= TARGET_P50_RATIO;
    console.log();
    console.log(`engine   in-process, no PTY (MemoryPort): ${fmt(engine.mean_us, 2)} µs per AT→OK, ${fmt(engine.rate)}/s` +
      ` (vmodem p50 − floor p50 = ${fmt(vmodem.p50_us - floor.p50_us, 1)} µs)`);
    console.log();
    console.log(`vmodem/floor  rate ×${fmt(rateRatio, 2)}   p50 ×${fmt(p50Ratio, 2)}`);
    console.log(`target rate   vmodem ≥ ${fmt(TARGET_RATE)} rt/s: ${fmt(vmodem.rate)} → ${ratePass ? 'PASS' : 'MISS'}`);
    console.log(`target p50    vmodem ≤ ${TARGET_P50_RATIO}× floor: ×${fmt(p50Ratio, 2)} → ${p50Pass ? 'PASS' : 'MISS'}`);

    for (const r of [floor, vmodem]) {
      if (!r.hot) continue;
      console.log();
      console.log(`hot spots (${r.name}): main thread idle ${fmt(r.hot.idle_pct, 1)}% of samples; self time as % of busy samples`);
      console.log(table([['%', 'area'], ...r.hot.areas.map((h) => [fmt(h.self_pct, 1), h.fn])]));
      console.log();
      console.log(table([['%', 'function', 'where'], ...r.hot.functions.map((h) => [fmt(h.self_pct, 1), h.fn, h.where])]));
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
      node_sys_us_per_rt: round(r.node_sys_us_per_rt, 2),
      client_cpu_us_per_rt: round(r.client_cpu_us_per_rt, 2),
      other_load_cores: round(r.other_load_cores, 2),
      round_rates: r.round_rates,
      unexpected_replies: r.unexpected,
      ...(r.init.length ? { init: r.init.map((i) => `${i.cmd}:${i.ok ? 'OK' : 'ERROR'}`) } : {}),
      ...(r.hot ? { hot: r.hot } : {}),
    });
    console.log();
    console.log(JSON.stringify({
      bench: 'at-roundtrip',
      machine: m,
      config: { n: opts.n, rounds: opts.rounds, warmup: opts.warmup, warmup_first: Math.max(opts.warmup, opts.warmupFirst), client: client.kind, echo: opts.echo, profile: opts.profile },
      floor: strip(floor),
      vmodem: strip(vmodem),
      engine_in_process: { mean_us: round(engine.mean_us, 2), rate: round(engine.rate) },
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
