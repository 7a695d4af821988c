// The far end of `npm run bench:uplink|downlink|fleet` (benchmarks/mqtt-paths.ts), in its own
// process so vmodem and its baseline are measured from the same kind of client:
//   at-uplink <device> <n> <warmup>      firmware: AT+QMTPUBEX QoS 1, one at a time (prompt, payload, OK, URC)
//   raw-uplink <port> <n> <warmup>       mqtt.js: publishAsync QoS 1, one at a time
//   at-downlink <device> <n>             firmware: AT+QMTSUB, then time each +QMTRECV line
//   raw-downlink <port> <n>              mqtt.js subscriber, time each message
//   raw-fleet <port> <count> <periodMs>  <count> mqtt.js clients, each publishing QoS 1 every period (± 10 %)
// Times are epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now()),
// the same scale in every process. One JSON line on stdout at the end (or "ready" lines).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import mqtt from 'mqtt';

const now = () => performance.timeOrigin + performance.now();
const [mode, target, a, b] = process.argv.slice(2);
const pct = (xs, p) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const summary = (lat, extra = {}) => ({ n: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), ...extra });

/** Blocking serial I/O: this process does nothing else. */
function openSerial(dev) {
  execFileSync('stty', ['-F', dev, 'raw', '-echo', '115200']);
  const fd = fs.openSync(dev, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  const chunk = Buffer.alloc(65536);
  let buf = '';
  return {
    write: (s) => fs.writeSync(fd, typeof s === 'string' ? Buffer.from(s, 'latin1') : s),
    /** Read until `what` (string) is in the buffer; returns and drops everything up to it. */
    until(what) {
      for (;;) {
        const i = buf.indexOf(what);
        if (i >= 0) {
          const out = buf.slice(0, i + what.length);
          buf = buf.slice(i + what.length);
          return out;
        }
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        buf += chunk.toString('latin1', 0, n);
      }
    },
    /** Read until `re` matches the buffer; returns and drops everything up to the match's end. */
    untilRe(re) {
      for (;;) {
        const m = re.exec(buf);
        if (m) {
          const out = buf.slice(0, m.index + m[0].length);
          buf = buf.slice(m.index + m[0].length);
          return out;
        }
        const n = fs.readSync(fd, chunk, 0, chunk.length, null);
        buf += chunk.toString('latin1', 0, n);
      }
    },
    /** The next complete line (without CRLF), skipping empty ones. */
    line() {
      for (;;) {
        const l = this.until('\r\n');
        if (l.length > 2) return l.slice(0, -2).replace(/^[\r\n]+/, '');
      }
    },
  };
}

function connect(port, id) {
  const s = openSerial(port);
  s.write('ATE0\r');
  s.until('OK\r\n');
  // A previous round's session may still be open: close it (ERROR when nothing is open).
  s.write('AT+QMTCLOSE=0\r');
  s.untilRe(/\r\n(OK|ERROR)\r\n/);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  s.write('AT+QMTOPEN=0,"127.0.0.1",1883\r');
  s.until('+QMTOPEN: 0,0\r\n');
  s.write(`AT+QMTCONN=0,"${id}"\r`);
  s.until('+QMTCONN: 0,0,0\r\n');
  return s;
}

const payload = Buffer.from('{"t":12345,"v":1}');

if (mode === 'at-uplink') {
  const s = connect(target, `bench-up-${process.pid}`);
  const n = Number(a), warm = Number(b);
  const cmd = `AT+QMTPUBEX=0,1,1,0,"bench/up",${payload.length}\r`;
  const lat = [];
  let t0 = 0;
  for (let i = 0; i < n + warm; i++) {
    if (i === warm) t0 = now();
    const t = now();
    s.write(cmd);
    s.until('> ');
    s.write(payload);
    s.until('+QMTPUBEX: 0,1,0\r\n');
    if (i >= warm) lat.push(now() - t);
  }
  console.log(JSON.stringify(summary(lat, { rate: (n * 1000) / (now() - t0) })));
  process.exit(0);
} else if (mode === 'raw-uplink') {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${target}`, { clientId: `raw-up-${process.pid}`, reconnectPeriod: 0 });
  const n = Number(a), warm = Number(b);
  const lat = [];
  let t0 = 0;
  for (let i = 0; i < n + warm; i++) {
    if (i === warm) t0 = now();
    const t = now();
    await c.publishAsync('bench/up', payload, { qos: 1 });
    if (i >= warm) lat.push(now() - t);
  }
  console.log(JSON.stringify(summary(lat, { rate: (n * 1000) / (now() - t0) })));
  await c.endAsync();
  process.exit(0);
} else if (mode === 'at-downlink') {
  const s = connect(target, `bench-down-${process.pid}`);
  s.write('AT+QMTSUB=0,1,"bench/down",1\r');
  s.until('+QMTSUB: 0,1,0,1\r\n');
  console.log('ready');
  const n = Number(a);
  const lat = [];
  while (lat.length < n) {
    const l = s.line();
    const m = /^\+QMTRECV: 0,\d+,"bench\/down","\{"t":([\d.]+)/.exec(l);
    if (m) lat.push(now() - Number(m[1]));
  }
  console.log(JSON.stringify(summary(lat)));
  process.exit(0);
} else if (mode === 'raw-downlink') {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${target}`, { clientId: `raw-down-${process.pid}`, reconnectPeriod: 0 });
  await c.subscribeAsync('bench/down', { qos: 1 });
  const n = Number(a);
  const lat = [];
  c.on('message', (_t, p) => {
    const m = /^\{"t":([\d.]+)/.exec(p.toString());
    if (m) lat.push(now() - Number(m[1]));
    if (lat.length === n) {
      console.log(JSON.stringify(summary(lat)));
      process.exit(0);
    }
  });
  console.log('ready');
} else if (mode === 'raw-fleet') {
  const count = Number(a), period = Number(b);
  const clients = [];
  for (let i = 0; i < count; i++) {
    const c = mqtt.connect(`mqtt://127.0.0.1:${target}`, { clientId: `raw-fleet-${i}`, reconnectPeriod: 1000 });
    clients.push(c);
    let seq = 0;
    const tick = () => {
      seq++;
      c.publish(`fleet/raw${i}/telemetry`, JSON.stringify({ imei: `raw${i}`, seq, time: Date.now() }), { qos: 1 });
      setTimeout(tick, period * (0.9 + Math.random() * 0.2));
    };
    c.once('connect', () => setTimeout(tick, Math.random() * period));
  }
  console.log('ready');
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
