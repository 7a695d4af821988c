/**
 * The network model in --timing real (issue 10 §1), on a clock the test drives: a result that
 * needs the network never comes sooner than the radio's round trips after the OK.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createMemoryModem, type MemoryModem } from '../../src/check/memory-modem.js';
import { NetworkTiming } from '../../src/mqtt/network-timing.js';
import { TestClock } from '../../src/util/clock.js';

let broker: EmbeddedBroker | undefined;
let m: MemoryModem | undefined;
afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

async function ec200(): Promise<{ m: MemoryModem; clock: TestClock }> {
  broker = await startEmbeddedBroker({ port: 0 });
  const clock = new TestClock();
  m = createMemoryModem('quectel-ec200', { broker: broker.aedes, clock, timing: 'real' });
  return { m, clock };
}

/** Virtual milliseconds from sending `line` until `result` is in the output. */
async function timeTo(mm: MemoryModem, clock: TestClock, line: string, result: string): Promise<number> {
  const t0 = clock.now();
  expect(await mm.at(line)).toBe('\r\nOK\r\n');
  await mm.waitFor(result, 60_000);
  return clock.now() - t0;
}

describe('quectel-ec200 in --timing real (LTE Cat-1: 100 ms round trip, 25 ms processing)', () => {
  it('reports +QMTOPEN one TCP handshake after OK for an IP, one DNS lookup more for a name', async () => {
    const { m: mm, clock } = await ec200();
    expect(await timeTo(mm, clock, 'AT+QMTOPEN=0,"10.1.2.3",1883', '+QMTOPEN: 0,0')).toBe(125);
    expect(await timeTo(mm, clock, 'AT+QMTOPEN=1,"iot.example.com",1883', '+QMTOPEN: 1,0')).toBe(225);
  });

  it('adds the two TLS round trips when SSL is on', async () => {
    const { m: mm, clock } = await ec200();
    expect(await mm.at('AT+QMTCFG="ssl",0,1,0')).toBe('\r\nOK\r\n');
    expect(await timeTo(mm, clock, 'AT+QMTOPEN=0,"iot.example.com",8883', '+QMTOPEN: 0,0')).toBe(425);
  });

  it('reports +QMTCONN and +QMTSUB one exchange after OK, and a OK is never followed by its result in the same instant', async () => {
    const { m: mm, clock } = await ec200();
    await timeTo(mm, clock, 'AT+QMTOPEN=0,"10.1.2.3",1883', '+QMTOPEN: 0,0');
    mm.clear();
    expect(await timeTo(mm, clock, 'AT+QMTCONN=0,"dev"', '+QMTCONN: 0,0,0')).toBe(125);
    expect(await timeTo(mm, clock, 'AT+QMTSUB=0,1,"t",1', '+QMTSUB: 0,1,0,1')).toBe(125);
  });

  it('adds the latency fault to every round trip, the TCP handshake included', async () => {
    const { m: mm, clock } = await ec200();
    mm.modem.device.netTiming.extraLatencyMs = 300;
    expect(await timeTo(mm, clock, 'AT+QMTOPEN=0,"iot.example.com",1883', '+QMTOPEN: 0,0')).toBe(25 + 2 * 400);
  });
});

describe('NetworkTiming', () => {
  const t = new NetworkTiming({ link: 'NB-IoT', rttMs: 700, processingMs: 100 }, true);

  it('models a BC26-like NB-IoT radio in seconds', () => {
    expect(t.openMs({ host: '1.2.3.4', tls: false })).toBe(800);
    expect(t.exchangeMs(1)).toBe(800);
    expect(t.exchangeMs(2)).toBe(1500);
    expect(t.openFailedMs('dns', { host: 'x.example' })).toBe(800);
  });

  it('is off in --timing fast', () => {
    const fast = new NetworkTiming({ link: 'NB-IoT', rttMs: 700, processingMs: 100 }, false);
    expect(fast.openMs({ host: 'x.example', tls: true })).toBe(0);
    expect(fast.exchangeMs(2)).toBe(0);
  });
});
