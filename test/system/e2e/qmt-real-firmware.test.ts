/**
 * quectel-ec200 through the real PTY as widely deployed firmware drives it (issue 10 "Done when"):
 * - a firmware that polls the UART every 100 ms, takes the OK and discards the rest of that read,
 *   then waits for the result URC — which must therefore come a network exchange after the OK
 *   (`--timing real`; the latency fault widens the model's round trips so the test's margin does
 *   not depend on how busy the machine is);
 * - AT+QMTSUB/AT+QMTUNS with msgID 0 (EC801E/EC800-class firmware);
 * - the inline AT+QMTPUB of Quectel's MCU SDK, waiting for +QMTPUB.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { onCleanup, uniqueLink, useE2eCleanup } from '../../helpers/e2e-harness.js';
import { requires } from '../../helpers/requires.js';
import { startVmodem } from '../../../src/vmodem.js';
import type { BrokerPublish } from '../../../src/broker/embedded-broker.js';

const need = requires('python3');

useE2eCleanup();

/** The polling firmware: one JSON line per step on stdout. */
const FIRMWARE = String.raw`
import json, os, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
tty.setraw(fd)
def poll():
    time.sleep(0.1)
    try:
        return os.read(fd, 65536).decode('latin1')
    except BlockingIOError:
        return ''
def step(line, urc):
    os.write(fd, (line + '\r\n').encode())
    first = ''
    deadline = time.time() + 10
    while 'OK\r\n' not in first and 'ERROR\r\n' not in first and time.time() < deadline:
        first += poll()
    # What followed the OK in the same read is discarded, as these drivers do.
    later = ''
    while urc and urc not in later and time.time() < deadline:
        later += poll()
    print(json.dumps({'line': line, 'first': first, 'later': later}), flush=True)
time.sleep(0.3)
try:
    os.read(fd, 65536)
except BlockingIOError:
    pass
for line, urc in json.loads(sys.argv[2]):
    step(line, urc)
`;

interface Step {
  line: string;
  first: string;
  later: string;
}

function runFirmware(link: string, steps: [string, string][]): Promise<Step[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-S', '-c', FIRMWARE, link, JSON.stringify(steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(() => p.kill('SIGKILL'));
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`firmware exited ${code}: ${err}`));
      else resolve(out.trim().split('\n').map((l) => JSON.parse(l) as Step));
    });
  });
}

describe.skipIf(need.missing)(`e2e: quectel-ec200 as deployed firmware drives it (--timing real)${need.note}`, () => {
  it('gets each result URC in a later read than its OK, subscribes with msgID 0 and publishes with the SDK’s AT+QMTPUB', async () => {
    const link = uniqueLink('poll');
    const vm = await startVmodem({ link, mqttPort: 0, timing: 'real', control: { port: 0 } });
    onCleanup(() => vm.stop());
    vm.modems[0]!.controller.setLatency(300);
    const published: BrokerPublish[] = [];
    vm.broker!.onPublish((p) => published.push(p));

    const plan: [string, string][] = [
      ['ATE0', ''],
      ['AT+QMTOPEN=0,"iot.example.com",1883', '+QMTOPEN: 0,0'],
      ['AT+QMTCONN=0,"ec800-poller"', '+QMTCONN: 0,0,0'],
      ['AT+QMTSUB=0,0,"cmd/ec800",1', '+QMTSUB: 0,0,0,1'],
      ['AT+QMTPUB=0,1,1,0,"up/ec800","hi"', '+QMTPUB: 0,1,0'],
      ['AT+QMTUNS=0,0,"cmd/ec800"', '+QMTUNS: 0,0,0'],
    ];
    const steps = await runFirmware(link, plan);
    expect(steps.map((s) => s.line)).toEqual(plan.map(([line]) => line));
    plan.slice(1).forEach(([line, urc], i) => {
      const s = steps[i + 1]!;
      // The OK alone in its read: the result is a network exchange away.
      expect(s.first, line).toBe('\r\nOK\r\n');
      expect(s.later, line).toContain(`\r\n${urc}\r\n`);
    });
    expect(published.map((p) => [p.topic, p.payload.toString(), p.qos])).toEqual([['up/ec800', 'hi', 1]]);
  });
});
