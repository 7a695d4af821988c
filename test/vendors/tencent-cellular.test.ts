/**
 * Profile tencent-qcloud-cellular: the Tencent AT+TC* set on a Neoway N21-class module — 3GPP
 * basics, the PPP link of AT+XIIC that the data path waits for, and publish payloads where only
 * `"` is escaped — on a memory modem, a TestClock and the embedded broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker, type BrokerPublish } from '../../src/broker/embedded-broker.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const reply = (...lines: string[]): string => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const DEVINFO = 'AT+TCDEVINFOSET=1,"CTQS08Y5LG","device1","ZHNkIGRzZCA="';

let broker: EmbeddedBroker | undefined;
let m: MemoryModem | undefined;

afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

async function start(): Promise<MemoryModem> {
  broker = await startEmbeddedBroker({ port: 0 });
  m = createMemoryModem('tencent-qcloud-cellular', { broker: broker.aedes, clock: new TestClock() });
  return m;
}

describe('tencent-qcloud-cellular', () => {
  it('answers the 3GPP bring-up a driver sends before dialling', async () => {
    const mm = await start();
    expect(await mm.at('AT+CPIN?')).toBe(reply('+CPIN: READY'));
    expect(await mm.at('AT+CSQ')).toBe(reply('+CSQ: 24,99'));
    expect(await mm.at('AT+CREG?')).toBe(reply('+CREG: 0,1'));
    expect(await mm.at('AT+CGATT?')).toBe(reply('+CGATT: 1'));
    expect(await mm.at('AT+FAKE')).toBe('\r\nERROR\r\n');
  });

  it('brings the data path up only after AT+XIIC=1: +XIIC:    1,<ip>', async () => {
    const mm = await start();
    expect(await mm.at('AT+XIIC?')).toBe(reply('+XIIC:    0,0.0.0.0'));
    await mm.at(DEVINFO);
    await mm.waitFor('+TCDEVINFOSET:OK');
    expect(await mm.at('AT+TCMQTTCONN=1,5000,240,1,1')).toBe('\r\n+CME ERROR: 208\r\n');
    expect(await mm.at('AT+XIIC=1')).toBe(OK);
    await mm.waitFor('+TCREGNET:0,NET_OK\r\n');
    expect(await mm.at('AT+XIIC?')).toBe(reply('+XIIC:    1,10.245.3.118'));
    expect(await mm.at('AT+TCMQTTCONN=1,5000,240,1,1')).toBe(OK);
    expect(await mm.waitFor('+TCMQTTCONN:OK\r\n')).toBe(`${OK}\r\n+TCMQTTCONN:OK\r\n`);
  });

  it('publishes with only the quote unescaped: \\, stays as typed', async () => {
    const mm = await start();
    const got: BrokerPublish[] = [];
    broker!.on('publish', (p: BrokerPublish) => got.push(p));
    await mm.at('AT+XIIC=1');
    await mm.waitFor('NET_OK');
    await mm.at(DEVINFO);
    await mm.waitFor('+TCDEVINFOSET:OK');
    await mm.at('AT+TCMQTTCONN=1,5000,240,1,1');
    await mm.waitFor('+TCMQTTCONN:OK');
    expect(await mm.at('AT+TCMQTTPUB="CTQS08Y5LG/device1/data",0,"{\\"a\\":1\\,\\"b\\":2}"')).toBe(OK);
    await mm.waitFor('+TCMQTTPUB:OK');
    const pub = got.find((p) => p.topic === 'CTQS08Y5LG/device1/data');
    expect(pub?.payload.toString()).toBe('{"a":1\\,"b":2}');
  });

  it('drops the link with AT+XIIC=0 and reports NET_CLOSE', async () => {
    const mm = await start();
    await mm.at('AT+XIIC=1');
    await mm.waitFor('NET_OK');
    expect(await mm.at('AT+XIIC=0')).toBe(OK);
    await mm.waitFor('+TCREGNET:0,NET_CLOSE');
    expect(await mm.at('AT+XIIC?')).toBe(reply('+XIIC:    0,0.0.0.0'));
  });
});
