/**
 * A stand-in for your firmware's host build: a minimal MQTT client over the quectel-ec200 AT
 * commands, on the serial device the test gives it. It connects, subscribes to
 * `dev/<id>/down`, publishes `online` to `dev/<id>/state` (QoS 1), remembers what it receives,
 * and starts over when the module reports the session lost (`+QMTSTAT`).
 *
 * In your project this is your firmware (or a process running it, e.g. `spawn('./build/app',
 * [modem.link])`); it is here so the example in firmware.test.ts runs as written.
 */
import fs from 'node:fs';

export interface TinyFirmware {
  /** The messages received on dev/<id>/down (payloads as text). */
  readonly received: string[];
  stop(): void;
}

export function startMyFirmware(device: string, id = '42'): TinyFirmware {
  // Non-blocking and polled: vmodem runs in this same process, so a blocking read would stall it.
  const fd = fs.openSync(device, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  const received: string[] = [];
  const chunk = Buffer.alloc(4096);
  let buf = '';
  let stopped = false;
  let waiting: { until: RegExp; resolve: (line: string) => void } | undefined;

  const write = (s: string) => fs.writeSync(fd, s);
  const onLine = (line: string) => {
    const recv = /^\+QMTRECV: 0,\d+,"([^"]*)","(.*)"$/.exec(line);
    if (recv) received.push(recv[2]!);
    if (/^\+QMTSTAT: 0,\d+$/.test(line)) void run(); // the session is gone: start over
    if (waiting && waiting.until.test(line)) {
      const w = waiting;
      waiting = undefined;
      w.resolve(line);
    }
  };
  const poll = () => {
    if (stopped) return;
    for (;;) {
      let n = 0;
      try {
        n = fs.readSync(fd, chunk, 0, chunk.length, null);
      } catch {
        break; // EAGAIN: nothing to read now
      }
      if (n === 0) break;
      buf += chunk.toString('latin1', 0, n);
      let nl: number;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line) onLine(line);
      }
      if (buf === '> ') {
        buf = '';
        onLine('>');
      }
    }
    setTimeout(poll, 5);
  };
  /** Send a command and wait for the line that ends it (OK, a result URC, or the prompt). */
  const command = (cmd: string, until: RegExp) =>
    new Promise<string>((resolve) => {
      waiting = { until, resolve };
      write(`${cmd}\r`);
    });

  let generation = 0;
  const run = async () => {
    const mine = ++generation;
    await command('AT+QMTOPEN=0,"broker.example.com",1883', /^\+QMTOPEN: 0,/);
    await command(`AT+QMTCONN=0,"fw-${id}"`, /^\+QMTCONN: 0,/);
    await command(`AT+QMTSUB=0,1,"dev/${id}/down",1`, /^\+QMTSUB: 0,/);
    if (mine !== generation || stopped) return;
    await command(`AT+QMTPUBEX=0,2,1,0,"dev/${id}/state",6`, /^>$/);
    await command('online', /^\+QMTPUBEX: 0,2,/);
  };

  poll();
  write('ATE0\r');
  void run();
  return {
    received,
    stop: () => {
      stopped = true;
      fs.closeSync(fd);
    },
  };
}
