// A plain-JavaScript user of the built package: `import { startModem } from 'vmodem'` resolves
// to dist/index.js through the package's own "exports" (Node's self-reference). It opens the PTY
// like firmware would (O_RDWR | O_NOCTTY, non-blocking reads through a tty.ReadStream), talks AT,
// and prints one JSON line with what it saw. Run by test/api/plain-js.test.ts.
import fs from 'node:fs';
import tty from 'node:tty';
import { startModem, ControlError } from 'vmodem';

const modem = await startModem();
const fd = fs.openSync(modem.link, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
const input = new tty.ReadStream(fd);
let received = '';
const waiters = [];
input.on('data', (d) => {
  received += d.toString('latin1');
  for (const w of waiters.splice(0)) w();
});
async function readUntil(re, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(received);
    if (m) {
      const out = received.slice(0, m.index + m[0].length);
      received = received.slice(m.index + m[0].length);
      return out;
    }
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${re}; got ${JSON.stringify(received)}`);
    await new Promise((r) => {
      waiters.push(r);
      setTimeout(r, 100);
    });
  }
}
const send = (s) => fs.writeSync(fd, s);

const out = {};
out.boot = await readUntil(/RDY\r\n/);
send('ATE0\r');
out.ate0 = await readUntil(/OK\r\n/);
send('AT+QMTOPEN=0,"broker.example.com",1883\r');
out.open = await readUntil(/\+QMTOPEN: 0,\d+\r\n/);
send('AT+QMTCONN=0,"plain-js"\r');
out.conn = await readUntil(/\+QMTCONN: 0,0,0\r\n/);
send('AT+QMTPUBEX=0,0,0,0,"dev/js",2\r');
await readUntil(/> /);
send('js');
out.pub = await readUntil(/\+QMTPUBEX: 0,0,0\r\n/);
const p = await modem.expectPublish({ topic: 'dev/js', payload: 'js' }, { timeoutMs: 5000 });
out.published = { topic: p.topic, payload: p.payload.toString() };
modem.dropSession();
const u = await modem.expectUrc(/\+QMTSTAT: 0,(\d)/, { timeoutMs: 5000 });
out.urc = u.text;
try {
  await modem.expectUrc('never', { timeoutMs: 50 });
} catch (err) {
  out.timeoutIsControlError = err instanceof ControlError && err.code === 'timeout';
}
out.transcript = modem.transcript();
input.destroy();
await modem.stop();
out.linkRemoved = !fs.existsSync(modem.link);
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
