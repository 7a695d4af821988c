/**
 * `npm run bench:cluster` (issue 12 §3): does a fleet scale across processes? Modems driven by
 * the EC200 telemetry drive script (QoS 1 every BENCH_PERIOD ms), carried
 *
 *   A  by one `vmodem start --count 1000` process (embedded broker) — the single-process fleet;
 *   B  by one `vmodem start --count 2000` process (embedded broker): what one process does with
 *      the whole fleet;
 *   C  by two `vmodem start --cluster --count 1000` processes (the second `--first-index 1000`)
 *      on one redis-server.   goal: C delivers ≥ 1.8× what A does
 *
 * in alternating rounds (A B C, C B A, …), each cluster with a fresh redis-server. A plain mqtt.js
 * subscriber on the (first) node waits until every modem has published (at most BENCH_SETTLE ms),
 * then counts what arrives over BENCH_SECONDS: delivered messages/s, publish→subscriber latency
 * (the payload carries the time its bytes were written to the PTY), gaps in each modem's
 * sequence numbers (lost). The built bin/vmodem is spawned (`npm run build` first); redis-server
 * comes from Debian (`apt-get install redis-server`).
 *
 * Options (environment): BENCH_COUNT (modems per 1000-modem unit above, 1000), BENCH_PERIOD
 * (1000 ms), BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_SETTLE (60000), BENCH_SETUPS (a subset,
 * e.g. `A,C`).
 * A benchmark, not a test: a missed goal is printed, never an exit code.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { fleetTelemetryScript } from './fleet-script.js';
import { median, pct } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'vmodem');
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const COUNT = env('BENCH_COUNT', 1000);
const PERIOD = env('BENCH_PERIOD', 1000);
const SECONDS = env('BENCH_SECONDS', 10);
const ROUNDS = env('BENCH_ROUNDS', 2);
const SETTLE = env('BENCH_SETTLE', 60_000);

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Redis {
  url: string;
  stop(): Promise<void>;
}

async function startRedis(dir: string): Promise<Redis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(25);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Node {
  child: ChildProcess;
  mqttPort: number;
  /** What it wrote on stderr (warnings and errors: --log-level warn). */
  stderr(): string;
}

/** Spawn `vmodem start` and wait for its --json banner (printed once every modem is up). */
async function startNode(dir: string, name: string, count: number, firstIndex: number, script: string, cluster?: string): Promise<Node> {
  const args = [
    BIN, 'start', '--link', path.join(dir, `${name}-tty`), '--count', String(count), '--mqtt-port', '0',
    '--timing', 'fast', '--log-level', 'warn', '--json', '--drive', script, '--state-dir', path.join(dir, `${name}-state`),
    '--first-index', String(firstIndex), ...(cluster ? ['--cluster', cluster, '--node-id', name] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise<Node>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) {
        const banner = JSON.parse(line) as { ports: { mqtt: number } };
        resolve({ child, mqttPort: banner.ports.mqtt, stderr: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`vmodem ${name} exited ${code}: ${err.slice(-2000)}`)));
  });
}

async function stopNode(n: Node): Promise<void> {
  if (n.child.exitCode !== null) return;
  const gone = new Promise<void>((resolve) => n.child.once('exit', () => resolve()));
  n.child.kill('SIGTERM');
  const t = setTimeout(() => n.child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}

interface Row {
  /** The machine's CPUs busy during the window (0–1, all processes). */
  busy: number;
  rate: number;
  p50: number;
  p99: number;
  lost: number;
  senders: number;
  n: number;
}

/**
 * Subscribe on `port`; once all `count` modems have published (or SETTLE has passed), count what
 * arrives over SECONDS.
 */
/** The machine's CPU time so far (/proc/stat, all CPUs): busy and total jiffies. */
function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, x) => a + x, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

async function observe(port: number, count: number): Promise<Row & { settledMs: number }> {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-obs-${Date.now()}`, reconnectPeriod: 0 });
  await sub.subscribeAsync('fleet/+/telemetry', { qos: 1 });
  const seen = new Set<string>();
  let measuring = false;
  const lat: number[] = [];
  const last = new Map<string, number>();
  let lost = 0;
  sub.on('message', (_t, p) => {
    const m = JSON.parse(p.toString()) as { imei: string; seq: number; time: number };
    seen.add(m.imei);
    if (!measuring) return;
    lat.push(Date.now() - m.time);
    const prev = last.get(m.imei);
    if (prev !== undefined && m.seq > prev + 1) lost += m.seq - prev - 1;
    last.set(m.imei, m.seq);
  });
  const t0 = Date.now();
  while (seen.size < count && Date.now() - t0 < SETTLE) await sleep(200);
  const settledMs = Date.now() - t0;
  measuring = true;
  const cpu0 = cpuTimes();
  await sleep(SECONDS * 1000);
  const cpu1 = cpuTimes();
  await sub.endAsync();
  const busy = (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total);
  return { n: lat.length, rate: lat.length / SECONDS, p50: pct(lat, 50), p99: pct(lat, 99), lost, senders: last.size, settledMs, busy };
}

type Setup = { label: string; nodes: number; perNode: number; cluster: boolean };
const SETUPS: Setup[] = [
  { label: `A  1 process × ${COUNT}`, nodes: 1, perNode: COUNT, cluster: false },
  { label: `B  1 process × ${2 * COUNT}`, nodes: 1, perNode: 2 * COUNT, cluster: false },
  { label: `C  2 processes × ${COUNT}, --cluster`, nodes: 2, perNode: COUNT, cluster: true },
];

async function run(setup: Setup, dir: string, script: string): Promise<Row> {
  const redis = setup.cluster ? await startRedis(dir) : undefined;
  const nodes: Node[] = [];
  const total = setup.nodes * setup.perNode;
  try {
    const started = await Promise.all(
      Array.from({ length: setup.nodes }, (_, i) => startNode(dir, `n${i}`, setup.perNode, i * setup.perNode, script, redis?.url)),
    );
    nodes.push(...started);
    const r = await observe(nodes[0]!.mqttPort, total);
    if (r.senders < total) {
      for (const [i, n] of nodes.entries()) process.stderr.write(`  node n${i} stderr (last 1,500 bytes): ${n.stderr().slice(-1500) || '(nothing)'}\n`);
    }
    process.stderr.write(
      `  ${setup.label}: all publishing after ${(r.settledMs / 1000).toFixed(1)} s; ${r.senders}/${total} modems seen, ${r.rate.toFixed(0)} msg/s, ${r.lost} lost, CPUs ${(r.busy * 100).toFixed(0)} % busy (load ${load()})\n`,
    );
    return r;
  } finally {
    await Promise.all(nodes.map(stopNode));
    await redis?.stop();
  }
}

async function main(): Promise<void> {
  if (!which('redis-server')) {
    console.log('skipped: needs redis-server (apt-get install redis-server)');
    return;
  }
  if (!existsSync(path.join(ROOT, 'dist', 'cli'))) {
    console.log('dist/ is missing: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmodem-bench-cluster-'));
  try {
    // The same firmware as bench:fleet (fleet-script.ts).
    const script = path.join(dir, 'telemetry.at');
    const text = fleetTelemetryScript(PERIOD);
    await writeFile(script, text);
    const res = new Map<string, Row[]>(SETUPS.map((s) => [s.label, []]));
    const only = process.env.BENCH_SETUPS?.toUpperCase().split(',');
    const chosen = SETUPS.filter((s) => !only || only.includes(s.label[0]!));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? chosen : [...chosen].reverse();
      for (const s of order) res.get(s.label)!.push(await run(s, dir, script));
      process.stderr.write(`round ${r + 1}/${ROUNDS} done (load ${load()})\n`);
    }
    console.log(`\ncluster fleet: modems via --drive, QoS 1 every ${PERIOD} ms each, ${SECONDS} s windows once all publish`);
    console.log(`(${ROUNDS} alternating rounds, medians; load average ${load()}; ${os.cpus().length} CPUs)`);
    console.log(`${'setup'.padEnd(34)}${'offered'.padStart(9)}${'msg/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'lost'.padStart(7)}${'seen'.padStart(7)}${'CPUs busy'.padStart(11)}`);
    const med: Record<string, Row> = {};
    for (const s of chosen) {
      const rows = res.get(s.label)!;
      const m: Row = {
        rate: median(rows.map((x) => x.rate)),
        busy: median(rows.map((x) => x.busy)),
        p50: median(rows.map((x) => x.p50)),
        p99: median(rows.map((x) => x.p99)),
        lost: rows.reduce((a, x) => a + x.lost, 0),
        senders: Math.min(...rows.map((x) => x.senders)),
        n: rows.reduce((a, x) => a + x.n, 0),
      };
      med[s.label] = m;
      const offered = (s.nodes * s.perNode * 1000) / PERIOD;
      console.log(`${s.label.padEnd(34)}${offered.toFixed(0).padStart(9)}${m.rate.toFixed(0).padStart(8)}${m.p50.toFixed(1).padStart(9)}${m.p99.toFixed(1).padStart(9)}${String(m.lost).padStart(7)}${String(m.senders).padStart(7)}${`${(m.busy * 100).toFixed(0)} %`.padStart(11)}`);
    }
    const [a, b, c] = SETUPS.map((s) => med[s.label]) as [Row | undefined, Row | undefined, Row | undefined];
    const ratio = a && c ? c.rate / a.rate : undefined;
    if (ratio !== undefined) console.log(`C / A: ${ratio.toFixed(2)}× (goal ≥ 1.8×: ${ratio >= 1.8 ? 'met' : 'missed'})${b ? `;  C / B: ${(c!.rate / b.rate).toFixed(2)}×` : ''}`);
    console.log(JSON.stringify({ bench: 'cluster', count: COUNT, period: PERIOD, results: med, ratio, load: os.loadavg() }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(process.exitCode ?? 0);
