/**
 * `npm run bench:uplink | bench:downlink | bench:fleet` (issue 12 §3): the MQTT-over-AT paths of
 * a real vmodem (profile quectel-ec200, `timing: 'fast'`, embedded broker, the real PTY) against a
 * baseline that skips the AT path, in the same run, in alternating rounds (A B, B A, …) so other
 * load on the machine hits both alike. Medians over the rounds; the load average is printed.
 * Clients are separate processes (benchmarks/mqtt-peer.mjs): a firmware on the PTY, or mqtt.js.
 *
 *   uplink    one QoS 1 AT+QMTPUBEX at a time (prompt, payload, OK, +QMTPUBEX URC) vs a raw
 *             mqtt.js client awaiting each QoS 1 publish to the same broker.   goal ≥ 0.5×
 *   downlink  a publish at 1,000 msg/s → the +QMTRECV line read by the firmware, vs a plain
 *             mqtt.js subscriber.   goal: p50 within 0.5 ms of the subscriber's, p99 ≤ 2 ms
 *   fleet     BENCH_COUNT (1000) modems, each driven by a drive script publishing QoS 1 every
 *             second (the MQTT part of fixtures/drive/quectel-ec200-telemetry.at, period 1 s), vs as many mqtt.js
 *             clients publishing alike; publish→subscriber latency and delivery.   goal p99 ≤ 20 ms
 *
 * Options (environment): BENCH_N (uplink 2000 / downlink 2000 per round), BENCH_ROUNDS (4;
 * fleet 2), BENCH_COUNT (fleet 1000), BENCH_SECONDS (fleet window, 10).
 * A benchmark, not a test: a missed goal is printed, never an exit code.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startVmodem, type RunningVmodem } from '../src/vmodem.js';
import { fleetTelemetryScript } from './fleet-script.js';
import { median, pct } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PEER = path.join(HERE, 'mqtt-peer.mjs');
const which = process.argv[2] ?? 'uplink';
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const ROUNDS = env('BENCH_ROUNDS', which === 'fleet' ? 2 : 4);

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

interface Peer {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  next(): Promise<string>;
}

function peer(...args: string[]): Peer {
  const child = spawn(process.execPath, [PEER, ...args], { cwd: path.join(HERE, '..'), stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let waiter: (() => void) | undefined;
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      waiter?.();
    }
  });
  return {
    child,
    lines,
    next: () =>
      new Promise<string>((resolve, reject) => {
        const take = () => {
          if (lines.length > 0) {
            waiter = undefined;
            resolve(lines.shift()!);
          }
        };
        waiter = take;
        child.once('exit', (code) => (lines.length ? take() : reject(new Error(`peer ${args[0]} exited ${code}: ${err}`))));
        take();
      }),
  };
}

async function withVmodem<T>(opts: Parameters<typeof startVmodem>[0], fn: (vm: RunningVmodem, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmodem-bench-'));
  const vm = await startVmodem({ timing: 'fast', mqttPort: 0, link: path.join(dir, 'tty0'), ...opts });
  try {
    return await fn(vm, dir);
  } finally {
    await vm.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

type Row = { rate?: number; p50: number; p99: number; n: number };

async function alternate(a: () => Promise<Row>, b: () => Promise<Row>): Promise<{ A: Row[]; B: Row[] }> {
  const A: Row[] = [];
  const B: Row[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      A.push(await a());
      B.push(await b());
    } else {
      B.push(await b());
      A.push(await a());
    }
    process.stderr.write(`round ${r + 1}/${ROUNDS} done (load ${load()})\n`);
  }
  return { A, B };
}

function table(title: string, names: [string, string], res: { A: Row[]; B: Row[] }, unit = 'ms'): { a: Row; b: Row } {
  const med = (rows: Row[]): Row => ({
    n: rows.reduce((s, r) => s + r.n, 0),
    rate: rows[0]?.rate !== undefined ? median(rows.map((r) => r.rate!)) : undefined,
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
  });
  const a = med(res.A);
  const b = med(res.B);
  console.log(`\n${title}   (${ROUNDS} alternating rounds, medians; load average ${load()}; ${os.cpus().length} CPUs)`);
  console.log(`${'target'.padEnd(34)}${'msg/s'.padStart(10)}${`p50 ${unit}`.padStart(10)}${`p99 ${unit}`.padStart(10)}${'n'.padStart(8)}`);
  for (const [name, r] of [[names[0], a], [names[1], b]] as const) {
    console.log(`${name.padEnd(34)}${(r.rate !== undefined ? f(r.rate, 0) : '-').padStart(10)}${f(r.p50, 3).padStart(10)}${f(r.p99, 3).padStart(10)}${String(r.n).padStart(8)}`);
  }
  return { a, b };
}

async function uplink(): Promise<void> {
  const n = env('BENCH_N', 2000);
  await withVmodem({}, async (vm) => {
    const dev = vm.linkPath!;
    const port = vm.broker!.port;
    const run = async (...args: string[]) => JSON.parse(await peer(...args).next()) as Row;
    const res = await alternate(
      () => run('at-uplink', dev, String(n), '200'),
      () => run('raw-uplink', String(port), String(n), '200'),
    );
    const { a, b } = table('uplink: one QoS 1 publish at a time', ['vmodem AT+QMTPUBEX (PTY)', 'raw mqtt.js publishAsync'], res);
    const ratio = a.rate! / b.rate!;
    console.log(`ratio vmodem/raw: ${ratio.toFixed(2)}×  (goal ≥ 0.5×: ${ratio >= 0.5 ? 'met' : 'missed'})`);
    console.log(JSON.stringify({ bench: 'uplink', vmodem: a, raw: b, ratio, load: os.loadavg() }));
  });
}

async function downlink(): Promise<void> {
  const n = env('BENCH_N', 2000);
  const rate = 1000;
  await withVmodem({}, async (vm) => {
    const port = vm.broker!.port;
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-pub', reconnectPeriod: 0 });
    const run = async (...args: string[]): Promise<Row> => {
      const p = peer(...args);
      if ((await p.next()) !== 'ready') throw new Error('peer not ready');
      // Paced at `rate` per second: a burst would measure queueing, not the path.
      const start = performance.now();
      let sent = 0;
      const done = p.next();
      while (sent < n + 50) {
        const due = start + (sent * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        pub.publish('bench/down', JSON.stringify({ t: performance.timeOrigin + performance.now(), pad: 'x'.repeat(16) }), { qos: 1 });
        sent++;
        if (p.lines.length > 0) break;
      }
      return JSON.parse(await done) as Row;
    };
    const res = await alternate(
      () => run('at-downlink', vm.linkPath!, String(n)),
      () => run('raw-downlink', String(port), String(n)),
    );
    await pub.endAsync();
    const { a, b } = table(`downlink: publish → receiver at ${rate} msg/s`, ['vmodem +QMTRECV line (PTY)', 'plain mqtt.js subscriber'], res);
    const p50Gap = a.p50 - b.p50;
    console.log(`p50 gap ${p50Gap.toFixed(3)} ms (goal ≤ 0.5: ${p50Gap <= 0.5 ? 'met' : 'missed'}); vmodem p99 ${a.p99.toFixed(3)} ms (goal ≤ 2: ${a.p99 <= 2 ? 'met' : 'missed'})`);
    console.log(JSON.stringify({ bench: 'downlink', vmodem: a, subscriber: b, load: os.loadavg() }));
  });
}

async function fleet(): Promise<void> {
  const count = env('BENCH_COUNT', 1000);
  const seconds = env('BENCH_SECONDS', 10);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmodem-bench-drive-'));
  const script = path.join(dir, 'telemetry-1s.at');
  // The fleet's firmware (fleet-script.ts), one QoS 1 reading a second.
  const text = fleetTelemetryScript(1000);
  await writeFile(script, text);

  /** Subscribe to every telemetry topic for `seconds`: latency, deliveries, and gaps in each sender's seq. */
  const observe = async (port: number): Promise<Row & { lost: number; senders: number }> => {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-obs-${Date.now()}`, reconnectPeriod: 0 });
    await sub.subscribeAsync('fleet/+/telemetry', { qos: 1 });
    const lat: number[] = [];
    const last = new Map<string, number>();
    let lost = 0;
    sub.on('message', (_t, p) => {
      const m = JSON.parse(p.toString()) as { imei: string; seq: number; time: number };
      lat.push(Date.now() - m.time);
      const prev = last.get(m.imei);
      if (prev !== undefined && m.seq > prev + 1) lost += m.seq - prev - 1;
      last.set(m.imei, m.seq);
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    await sub.endAsync();
    return { n: lat.length, rate: lat.length / seconds, p50: pct(lat, 50), p99: pct(lat, 99), lost, senders: last.size };
  };

  const viaAt = async (): Promise<Row> =>
    withVmodem({ count, drive: script }, async (vm) => {
      // Measure the steady state: wait until the fleet has run two loop iterations per modem
      // (every modem open, connected and publishing; starts are spread 2 ms apart, and a loaded
      // machine may make a CONNACK miss the module's timeout: +QMTSTAT, the script reconnects),
      // then 2 s more. At most 60 s.
      const t0 = performance.now();
      while (vm.drive!.stats().iterations < 2 * count && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 250));
      const steady = (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 2000));
      const settled = vm.drive!.stats();
      const r = await observe(vm.broker!.port);
      const end = vm.drive!.stats();
      process.stderr.write(
        `  vmodem fleet: steady after ${steady.toFixed(1)} s; ${r.senders}/${count} modems seen, ${r.lost} lost; ` +
          `during the window: ${end.jumps - settled.jumps} handler jumps (reconnects), ${end.timeouts - settled.timeouts} timeouts\n`,
      );
      return r;
    });
  const raw = async (): Promise<Row> =>
    withVmodem({ link: null }, async (vm) => {
      const p = peer('raw-fleet', String(vm.broker!.port), String(count), '1000');
      await p.next();
      await new Promise((r) => setTimeout(r, 3000));
      const r = await observe(vm.broker!.port);
      p.child.kill();
      process.stderr.write(`  raw fleet: ${r.senders}/${count} clients seen, ${r.lost} lost\n`);
      return r;
    });
  try {
    const res = await alternate(viaAt, raw);
    const { a, b } = table(`fleet: ${count} senders, QoS 1 every 1 s, publish → subscriber over ${seconds} s`, [`vmodem ×${count} via --drive (PTY)`, `mqtt.js ×${count} (one process)`], res);
    console.log(`vmodem p99 ${a.p99.toFixed(1)} ms (goal ≤ 20: ${a.p99 <= 20 ? 'met' : 'missed'}); throughput vs raw ${(a.rate! / b.rate!).toFixed(2)}×`);
    console.log(JSON.stringify({ bench: 'fleet', count, vmodem: a, raw: b, load: os.loadavg() }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const benches: Record<string, () => Promise<void>> = { uplink, downlink, fleet };
if (!benches[which]) {
  console.error(`usage: mqtt-paths.ts uplink|downlink|fleet`);
  process.exit(2);
}
await benches[which]!();
process.exit(0);
