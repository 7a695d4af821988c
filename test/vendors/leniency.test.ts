/**
 * Issue 10 §2: where real firmware is lenient, vmodem is too — and where there is no evidence,
 * it keeps the manual. One block per profile; the decisions and their evidence are in each
 * profile's `notes` ("Leniency (issue 10 §2)").
 *
 * Accepted on every profile: `at` in lower case (ITU-T V.250 §5.2.1: "AT" or "at"), option names of the config
 * commands in any case (drivers send `AT+QMTCFG="KEEPALIVE",0,60` and `"SSL"` to Quectel modules,
 * `AT+IMQTTPARA=TIMEOUT,…` as the YUGE manual prints it), and a CR or CRLF right after the Ctrl+Z
 * that ends a data-mode payload (line-oriented drivers end every write with one): the payload stops
 * at Ctrl+Z and the CR is an empty command line, which answers nothing.
 *
 * Kept as the manual has it (no evidence that the module accepts more): unquoted hosts, client ids
 * and topics on the Quectel, OneMO and Tencent profiles.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';

let m: MemoryModem | undefined;
let broker: EmbeddedBroker | undefined;

afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

async function modem(profile: string): Promise<{ m: MemoryModem; published: BrokerPublish[] }> {
  broker = await startEmbeddedBroker({ port: 0 });
  const published: BrokerPublish[] = [];
  broker.onPublish((msg) => published.push(msg));
  m = createMemoryModem(profile, { broker: broker.aedes, clock: new TestClock() });
  return { m, published };
}

async function qmtConnected(modem: MemoryModem): Promise<void> {
  expect(await modem.at('AT+QMTOPEN=0,"iot.example.com",1883')).toBe(OK);
  await modem.waitFor('+QMTOPEN: 0,0\r\n');
  expect(await modem.at('AT+QMTCONN=0,"dev1"')).toBe(OK);
  await modem.waitFor('+QMTCONN: 0,0,0\r\n');
}

const payloads = (published: BrokerPublish[], topic: string) => published.filter((p) => p.topic === topic).map((p) => p.payload.toString('latin1'));

describe('quectel-ec200', () => {
  it('takes lower-case at and AT+QMTCFG option names in any case', async () => {
    const { m } = await modem('quectel-ec200');
    expect(await m.at('at')).toBe(OK);
    expect(await m.at('at+qmtcfg="version",0,4')).toBe(OK);
    expect(await m.at('AT+QMTCFG="KEEPALIVE",0,60')).toBe(OK);
    expect(await m.at('AT+QMTCFG="Version",0,3')).toBe(OK);
    expect(await m.at('AT+QMTCFG="keepalive",0')).toBe('\r\n+QMTCFG: "keepalive",60\r\n\r\nOK\r\n');
    expect(await m.at('AT+QMTCFG="version",0')).toBe('\r\n+QMTCFG: "version",3\r\n\r\nOK\r\n');
  });

  it('publishes up to Ctrl+Z and ignores the CRLF the firmware sends after it (AT+QMTPUB prompt form)', async () => {
    const { m, published } = await modem('quectel-ec200');
    await qmtConnected(m);
    expect(await m.at('AT+QMTPUB=0,0,0,0,"len/ec200"')).toBe('\r\n> ');
    m.clear();
    m.send('hello\x1a\r\n');
    await m.waitFor('+QMTPUB: 0,0,0\r\n');
    expect(await m.at('AT')).toBe(OK);
    expect(m.output()).not.toContain('ERROR');
    expect(payloads(published, 'len/ec200')).toEqual(['hello']);
  });

  it('still refuses an unquoted host or topic, as the manual prints them quoted', async () => {
    const { m } = await modem('quectel-ec200');
    expect(await m.at('AT+QMTOPEN=0,iot.example.com,1883')).toBe(ERROR);
    await qmtConnected(m);
    expect(await m.at('AT+QMTSUB=0,1,a/b,1')).toBe(ERROR);
  });
});

describe('quectel-bc260y', () => {
  it('takes lower-case at and AT+QMTCFG option names in any case', async () => {
    const { m } = await modem('quectel-bc260y');
    expect(await m.at('at')).toBe(OK);
    expect(await m.at('AT+QMTCFG="KEEPALIVE",0,60')).toBe(OK);
    expect(await m.at('AT+QMTCFG="Version",0,1')).toBe(OK);
    // The BC260Y's query form prints the value alone (its manual's reply).
    expect(await m.at('at+qmtcfg="keepalive",0')).toBe('\r\n+QMTCFG: 60\r\n\r\nOK\r\n');
  });

  it('publishes up to Ctrl+Z and ignores a CR or CRLF after it', async () => {
    const { m, published } = await modem('quectel-bc260y');
    await qmtConnected(m);
    for (const tail of ['\r', '\r\n']) {
      expect(await m.at('AT+QMTPUB=0,0,0,0,"len/bc260y"')).toBe('\r\n> ');
      m.clear();
      m.send(`hello\x1a${tail}`);
      await m.waitFor('+QMTPUB: 0,0,0\r\n');
      expect(await m.at('AT')).toBe(OK);
      expect(m.output()).not.toContain('ERROR');
    }
    expect(payloads(published, 'len/bc260y')).toEqual(['hello', 'hello']);
  });

  it('still refuses an unquoted topic', async () => {
    const { m } = await modem('quectel-bc260y');
    await qmtConnected(m);
    expect(await m.at('AT+QMTSUB=0,1,a/b,1')).toBe(ERROR);
  });
});

describe('onemo-ml307', () => {
  async function mqttConnected(modem: MemoryModem): Promise<void> {
    expect(await modem.at('AT+MQTTCONN=0,"iot.example.com",1883,"dev1"')).toBe(OK);
    await modem.waitFor('+MQTTURC: "conn",0,0\r\n');
  }

  it('takes lower-case at and AT+MQTTCFG option names in any case', async () => {
    const { m } = await modem('onemo-ml307');
    expect(await m.at('at')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="KEEPALIVE",0,60')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="Keepalive",0')).toBe('\r\n+MQTTCFG: "keepalive",60\r\n\r\nOK\r\n');
  });

  it('takes the message unquoted, as ML307 drivers send hex payloads', async () => {
    const { m, published } = await modem('onemo-ml307');
    await mqttConnected(m);
    expect(await m.at('AT+MQTTCFG="encoding",0,1,1')).toBe(OK);
    expect(await m.at('AT+MQTTPUB=0,"len/ml307",0,0,0,2,4869')).toContain(OK);
    expect(payloads(published, 'len/ml307')).toEqual(['Hi']);
  });

  it('publishes up to Ctrl+Z (msg_len 0) and ignores the CRLF after it', async () => {
    const { m, published } = await modem('onemo-ml307');
    await mqttConnected(m);
    expect(await m.at('AT+MQTTPUB=0,"len/ml307",0,0,0,0')).toBe('\r\n> ');
    m.clear();
    m.send('3242\x1a\r\n');
    await m.waitFor(OK);
    expect(await m.at('AT')).toBe(OK);
    expect(m.output()).not.toContain('ERROR');
    expect(payloads(published, 'len/ml307')).toEqual(['3242']);
  });

  it('still refuses an unquoted host or topic (+CME ERROR: 601)', async () => {
    const { m } = await modem('onemo-ml307');
    expect(await m.at('AT+MQTTCONN=0,iot.example.com,1883,dev1')).toBe('\r\n+CME ERROR: 601\r\n');
    await mqttConnected(m);
    expect(await m.at('AT+MQTTSUB=0,a/b,1')).toBe('\r\n+CME ERROR: 601\r\n');
  });
});

describe('yuge-clm920', () => {
  it('takes lower-case at, AT+IMQTTPARA keys in any case, quoted or bare, and unquoted strings', async () => {
    const { m } = await modem('yuge-clm920');
    expect(await m.at('at')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA=timeout,2,Keepalive,90')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA="CLEAN",0,"VERSION","3.1.1"')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA?')).toBe('\r\n+IMQTTPARA:TIMEOUT,2,CLEAN,0,KEEPALIVE,90,VERSION,3.1.1\r\n\r\nOK\r\n');
    // §2.3's own example: AT+IMQTTADDR=203.156.205.55,1883,"testMQTT".
    expect(await m.at('AT+IMQTTADDR=iot.example.com,1883,dev1')).toBe(OK);
  });
});

for (const profile of ['tencent-qcloud', 'tencent-qcloud-cellular']) {
  describe(profile, () => {
    it('takes lower-case at and command names', async () => {
      const { m } = await modem(profile);
      expect(await m.at('ATE0')).toContain(OK);
      expect(await m.at('at')).toBe(OK);
      expect(await m.at('at+tcmqttstate?')).toBe('\r\n+TCMQTTSTATE:0\r\n\r\nOK\r\n');
    });

    it('still refuses unquoted strings (ESP-AT: "String values need to be included in double quotation marks")', async () => {
      const { m } = await modem(profile);
      await m.at('ATE0');
      expect(await m.at('AT+TCDEVINFOSET=1,PID1234567,dev1,"YWJjZGVmZ2hpamtsbW5vcA=="')).toBe('\r\n+CME ERROR: 204\r\n');
    });
  });
}
