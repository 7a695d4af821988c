/**
 * The YUGE CLM920 IMQTT command set, command by command, with the exact bytes the module writes.
 * Sessions run against a real embedded broker (Aedes), or a scriptable raw MQTT server where the
 * test must see or withhold packets.
 */
import { generate, parser as mqttParser, type IConnectPacket, type Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type AuthRequest, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import type { StreamBroker } from '../../src/mqtt/memory-link.js';
import { TestClock } from '../../src/util/clock.js';
import { filteringBroker, type FilteringBroker } from '../helpers/filtering-broker.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';
import { startFakeBroker, type FakeBroker } from '../mqtt/fake-broker.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;

const modems: MemoryModem[] = [];
const brokers: EmbeddedBroker[] = [];
const fakes: FakeBroker[] = [];

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

function modem(brokerPort?: number): MemoryModem {
  const m = createMemoryModem('yuge-clm920', brokerPort === undefined ? {} : { brokerPort });
  modems.push(m);
  return m;
}

async function broker(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  brokers.push(b);
  return b;
}

async function fake(opts: Parameters<typeof startFakeBroker>[0] = {}): Promise<FakeBroker> {
  const f = await startFakeBroker(opts);
  fakes.push(f);
  return f;
}

/**
 * A modem on the in-memory link to a fresh embedded broker, on a TestClock with the profile's real
 * timings: <TIMEOUT> and the other waits run in virtual time. `drop`: packets from the modem that
 * never reach the broker.
 */
async function virtual(drop?: (p: Packet) => boolean): Promise<{ m: MemoryModem; b: EmbeddedBroker; f: FilteringBroker; clock: TestClock }> {
  const b = await broker();
  const f = filteringBroker(b.aedes, drop);
  const clock = new TestClock();
  const m = createMemoryModem('yuge-clm920', { broker: f, clock, timing: 'real' });
  modems.push(m);
  return { m, b, f, clock };
}

/** Run settings lines (each must answer OK), then AT+IMQTTCONN through +IMQTTCONN:0. */
async function connect(m: MemoryModem, settings: string[] = ['AT+IMQTTADDR=mqtt.example.com,1883,"yuge-1"']): Promise<void> {
  for (const l of settings) expect(await m.at(l), l).toBe(OK);
  expect(await m.at('AT+IMQTTCONN')).toBe(OK);
  expect(await m.waitFor('+IMQTTCONN:0\r\n')).toBe(`${OK}${urc('+IMQTTCONN:0')}`);
}

/** A modem connected to a fresh embedded broker. */
async function session(settings?: string[]): Promise<{ m: MemoryModem; b: EmbeddedBroker }> {
  const b = await broker();
  const m = modem(b.port);
  await connect(m, settings);
  return { m, b };
}

/** Publish from the cloud side (broker-internal client). */
function cloudPublish(b: EmbeddedBroker, topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0): Promise<void> {
  return new Promise((resolve, reject) =>
    b.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, messageId: 0 } as never, (err?: Error) =>
      err ? reject(err) : resolve(),
    ),
  );
}

function nextPublish(b: EmbeddedBroker, topic: string): Promise<BrokerPublish> {
  return new Promise((resolve) => {
    const off = b.onPublish((p) => {
      if (p.topic !== topic) return;
      off();
      resolve(p);
    });
  });
}

/** Aedes' connected clients by id (not in its typings). */
const clientsOf = (b: EmbeddedBroker) => (b.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('power-on values and the read and test forms', () => {
  it('reads every setting back as the manual prints it, with no space after the colon', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,0'));
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,3,CLEAN,1,KEEPALIVE,60,VERSION,3.1.1'));
    expect(await m.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:,'));
    expect(await m.at('AT+IMQTTADDR?')).toBe(reply('+IMQTTADDR:,1883,'));
    expect(await m.at('AT+IMQTTLWT?')).toBe(reply('+IMQTTLWT:,0,,0'));
    expect(await m.at('AT+IMQTTLWTBIN?')).toBe(reply('+IMQTTLWTBIN:,0,,0'));
    expect(await m.at('AT+IMQTTAUTH?')).toBe(reply('+IMQTTAUTH:,,'));
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    expect(await m.at('AT+IMQTTRECVMODE?')).toBe(reply('+IMQTTRECVMODE: 0'));
    expect(await m.at('AT+IMQTTRECV?')).toBe(reply('+IMQTTRECV: 0'));
    for (const nothingYet of ['AT+IMQTTSUB?', 'AT+IMQTTUNSUB?', 'AT+IMQTTPUB?', 'AT+IMQTTPUBIN?', 'AT+IMQTTPUBEX?', 'AT+IMQTTDYNREG?']) {
      expect(await m.at(nothingYet), nothingYet).toBe(OK);
    }
  });

  it('answers every documented test form with OK', async () => {
    const m = modem();
    for (const name of ['MODE', 'PARA', 'USER', 'ADDR', 'LWT', 'LWTBIN', 'CONN', 'SUB', 'UNSUB', 'PUB', 'PUBIN', 'PUBEX', 'STATE', 'AUTH', 'DYNREG', 'RECVMODE', 'RECV']) {
      expect(await m.at(`AT+IMQTT${name}=?`), name).toBe(OK);
    }
  });

  it('lists no saved registration triples on a fresh module (AT+IMQTTDYNREG=2)', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTDYNREG=2')).toBe(reply('+IMQTTDYNREG: 1,"","",""', '+IMQTTDYNREG: 2,"","",""'));
  });
});

describe('settings', () => {
  it('AT+IMQTTMODE sets mode, TLS and receive mode; the receive mode is optional and shared with AT+IMQTTRECVMODE', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTMODE=1,1,1')).toBe(OK);
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:1,1,1'));
    expect(await m.at('AT+IMQTTMODE=2,0')).toBe(OK);
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,1'));
    expect(await m.at('AT+IMQTTRECVMODE?')).toBe(reply('+IMQTTRECVMODE: 1'));
    expect(await m.at('AT+IMQTTRECVMODE=0')).toBe(OK);
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,0'));
  });

  it('AT+IMQTTPARA takes the manual line, keys quoted or bare in any case and order, and a subset', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTPARA=TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1'));
    expect(await m.at('AT+IMQTTPARA="VERSION","3.1",keepalive,180')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,1,CLEAN,0,KEEPALIVE,180,VERSION,3.1'));
    expect(await m.at('AT+IMQTTPARA=Timeout,3,Clean,1')).toBe(OK);
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,3,CLEAN,1,KEEPALIVE,180,VERSION,3.1'));
  });

  it('AT+IMQTTUSER masks the password with five asterisks in the read form', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTUSER=name001,pwd001')).toBe(OK);
    expect(await m.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:name001,*****'));
    expect(await m.at('AT+IMQTTUSER="a much longer user","a much longer password, with a comma"')).toBe(OK);
    expect(await m.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:a much longer user,*****'));
    expect(await m.at('AT+IMQTTUSER="", ""')).toBe(OK);
    expect(await m.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:,'));
  });

  it('AT+IMQTTADDR takes quoted or bare arguments and an optional client id, and reads them back', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTADDR=203.156.205.55,1883,"testMQTT"')).toBe(OK);
    expect(await m.at('AT+IMQTTADDR?')).toBe(reply('+IMQTTADDR:203.156.205.55,1883,testMQTT'));
    expect(await m.at('AT+IMQTTADDR="a1m8qO1ceKE.iot-as-mqtt.cn-shanghai.aliyuncs.com",1883,""')).toBe(OK);
    expect(await m.at('AT+IMQTTADDR?')).toBe(reply('+IMQTTADDR:a1m8qO1ceKE.iot-as-mqtt.cn-shanghai.aliyuncs.com,1883,'));
    expect(await m.at('AT+IMQTTADDR=broker.local,8883')).toBe(OK);
    expect(await m.at('AT+IMQTTADDR?')).toBe(reply('+IMQTTADDR:broker.local,8883,'));
  });

  it('AT+IMQTTLWT and AT+IMQTTLWTBIN share one will, each read form printing it its way', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTLWT= will_topic,0,will_message,0')).toBe(OK);
    expect(await m.at('AT+IMQTTLWT?')).toBe(reply('+IMQTTLWT:will_topic,0,will_message,0'));
    expect(await m.at('AT+IMQTTLWTBIN?')).toBe(reply('+IMQTTLWTBIN:will_topic,0,77696C6C5F6D657373616765,0'));
    expect(await m.at('AT+IMQTTLWTBIN= will_topic,1,77696c6c5f6d657373616765,1')).toBe(OK);
    expect(await m.at('AT+IMQTTLWTBIN?')).toBe(reply('+IMQTTLWTBIN:will_topic,1,77696c6c5f6d657373616765,1'));
    expect(await m.at('AT+IMQTTLWT?')).toBe(reply('+IMQTTLWT:will_topic,1,will_message,1'));
    // <retained> is optional (default 0); an empty topic removes the will.
    expect(await m.at('AT+IMQTTLWT=dev/status,2,"gone, for now"')).toBe(OK);
    expect(await m.at('AT+IMQTTLWT?')).toBe(reply('+IMQTTLWT:dev/status,2,gone, for now,0'));
    expect(await m.at('AT+IMQTTLWT="",0,""')).toBe(OK);
    expect(await m.at('AT+IMQTTLWT?')).toBe(reply('+IMQTTLWT:,0,,0'));
  });

  it('AT+IMQTTAUTH keeps the triple (the manual\'s AT+IMQTTAUTU spelling too) and all-empty removes it', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTAUTH=a1R3d3WsBI0,test1,c75b6a4e39342f02ec161ba682566054')).toBe(OK);
    expect(await m.at('AT+IMQTTAUTH?')).toBe(reply('+IMQTTAUTH:a1R3d3WsBI0,test1,c75b6a4e39342f02ec161ba682566054'));
    expect(await m.at('AT+IMQTTAUTU="a1ArHWIBwWN","mqtt1","Fg5PVTXX6fjI7A8Bli2Oj9z9rUeLMftK"')).toBe(OK);
    expect(await m.at('AT+IMQTTAUTU?')).toBe(reply('+IMQTTAUTH:a1ArHWIBwWN,mqtt1,Fg5PVTXX6fjI7A8Bli2Oj9z9rUeLMftK'));
    expect(await m.at('AT+IMQTTAUTH="","",""')).toBe(OK);
    expect(await m.at('AT+IMQTTAUTH?')).toBe(reply('+IMQTTAUTH:,,'));
  });
});

describe('connecting (AT+IMQTTCONN, AT+IMQTTDISCONN)', () => {
  it('sends CONNECT with the configured client id, credentials, version, keep-alive, clean session and will', async () => {
    const f = await fake();
    const m = modem(f.port);
    await connect(m, [
      'AT+IMQTTADDR=mqtt.example.com,1883,"yuge-1"',
      'AT+IMQTTUSER=name001,pwd001',
      'AT+IMQTTPARA=TIMEOUT,2,CLEAN,0,KEEPALIVE,120,VERSION,3.1',
      'AT+IMQTTLWTBIN=dev/will,1,00FF0D0A,1',
    ]);
    const c = f.received.find((p): p is IConnectPacket => p.cmd === 'connect')!;
    expect(c).toMatchObject({ clientId: 'yuge-1', username: 'name001', protocolId: 'MQIsdp', protocolVersion: 3, keepalive: 120, clean: false });
    expect(Buffer.from(c.password!).toString()).toBe('pwd001');
    expect(c.will).toMatchObject({ topic: 'dev/will', qos: 1, retain: true });
    expect(Buffer.from(c.will!.payload as Buffer)).toEqual(Buffer.from([0x00, 0xff, 0x0d, 0x0a]));
  });

  it('sends MQTT 3.1.1 with no credentials and no will by default', async () => {
    const f = await fake();
    const m = modem(f.port);
    await connect(m);
    const c = f.received.find((p): p is IConnectPacket => p.cmd === 'connect')!;
    expect(c).toMatchObject({ clientId: 'yuge-1', protocolId: 'MQTT', protocolVersion: 4, keepalive: 60, clean: true });
    expect(c.username).toBeUndefined();
    expect(c.password).toBeUndefined();
    expect(c.will).toBeUndefined();
  });

  it('sends no password without a user name [MQTT-3.1.2-22]', async () => {
    const f = await fake();
    const m = modem(f.port);
    await connect(m, ['AT+IMQTTADDR=h,1883,"x"', 'AT+IMQTTUSER="",secret']);
    const c = f.received.find((p): p is IConnectPacket => p.cmd === 'connect')!;
    expect(c.username).toBeUndefined();
    expect(c.password).toBeUndefined();
  });

  it('answers a second AT+IMQTTCONN with OK and +IMQTTCONN:1, and reports state 2 with a good signal', async () => {
    const { m } = await session();
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    expect(await m.waitFor('+IMQTTCONN:1\r\n')).toBe(`${OK}${urc('+IMQTTCONN:1')}`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });

  it('reports AT+IMQTTSTATE 1 while connected with a poor or unknown signal', async () => {
    const { m } = await session();
    m.modem.network.rssi = 5;
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:1'));
    m.modem.network.rssi = 99;
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:1'));
    m.modem.network.rssi = 10;
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });

  it('reports +IMQTTCONN:-1 when the broker refuses the CONNECT', async () => {
    const f = await fake({ connack: 5 });
    const m = modem(f.port);
    expect(await m.at('AT+IMQTTADDR=mqtt.example.com,1883,"x"')).toBe(OK);
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(`${OK}${urc('+IMQTTCONN:-1')}`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
  });

  it('reports +IMQTTCONN:-1 when no CONNACK comes within TIMEOUT', async () => {
    const { m, clock } = await virtual((p) => p.cmd === 'connect');
    expect(await m.at('AT+IMQTTPARA=TIMEOUT,1')).toBe(OK);
    expect(await m.at('AT+IMQTTADDR=mqtt.example.com,1883,"x"')).toBe(OK);
    const t0 = clock.now();
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:-1\r\n', 5000);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('reports +IMQTTCONN:-1 when nothing listens, when the radio is off, and for an empty client id with a persistent session', async () => {
    const m = modem(); // port 1: refused
    expect(await m.at('AT+IMQTTADDR=mqtt.example.com,1883,"x"')).toBe(OK);
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:-1\r\n');

    const b = await broker();
    const m2 = modem(b.port);
    expect(await m2.at('AT+IMQTTADDR=mqtt.example.com,1883,""')).toBe(OK);
    expect(await m2.at('AT+IMQTTPARA=CLEAN,0')).toBe(OK);
    expect(await m2.at('AT+IMQTTCONN')).toBe(OK);
    await m2.waitFor('+IMQTTCONN:-1\r\n');
    expect(await m2.at('AT+CFUN=0')).toBe(OK);
    expect(await m2.at('AT+IMQTTPARA=CLEAN,1')).toBe(OK);
    expect(await m2.at('AT+IMQTTCONN')).toBe(OK);
    await m2.waitFor('+IMQTTCONN:-1\r\n');
    expect(await m2.at('AT+CFUN=1')).toBe(OK);
    await connect(m2, []);
  });

  it('AT+IMQTTDISCONN sends DISCONNECT (no will), then +IMQTTCONN:-1; a second one is ERROR', async () => {
    const { m, b } = await session(['AT+IMQTTADDR=h,1883,"yuge-disc"', 'AT+IMQTTLWT=dev/will,0,bye']);
    const wills: BrokerPublish[] = [];
    b.onPublish((p) => {
      if (p.topic === 'dev/will') wills.push(p);
    });
    expect(await m.at('AT+IMQTTDISCONN')).toBe(OK);
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(`${OK}${urc('+IMQTTCONN:-1')}`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    expect(await m.at('AT+IMQTTDISCONN')).toBe(ERROR);
    await sleep(100);
    expect(wills).toEqual([]);
  });

  it('the will is published when the radio goes off (AT+CFUN=0): the link ends without DISCONNECT', async () => {
    const { m, b } = await session(['AT+IMQTTADDR=h,1883,"yuge-will"', 'AT+IMQTTLWT=dev/will,1,"gone",1']);
    const will = nextPublish(b, 'dev/will');
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(`${OK}${urc('+IMQTTCONN:-1')}`);
    const w = await will;
    expect(w.payload.toString()).toBe('gone');
    expect(w.retain).toBe(true);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
  });

  it('reports +IMQTTCONN:-1 when the broker drops the connection', async () => {
    const { m, b } = await session(['AT+IMQTTADDR=h,1883,"yuge-drop"']);
    m.clear();
    clientsOf(b)['yuge-drop']!.close();
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(urc('+IMQTTCONN:-1'));
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    expect(await m.at('AT+IMQTTSUB=a/b,0')).toBe(ERROR);
  });
});

describe('restarts', () => {
  it('AT+CFUN=1,1 drops the connection without a URC and restores the power-on settings; ATZ keeps them', async () => {
    const { m } = await session(['AT+IMQTTADDR=h,1883,"yuge-reboot"', 'AT+IMQTTMODE=2,0,1', 'AT+IMQTTUSER=u,p', 'AT+IMQTTPARA=TIMEOUT,1']);
    expect(await m.at('ATZ')).toBe(OK);
    expect(await m.at('ATE0')).toBe(`ATE0\r${OK}`); // ATZ restored the power-on echo
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,1'));
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
    expect(await m.at('AT+CFUN=1,1')).toBe(OK);
    await sleep(50);
    expect(m.output()).toBe(OK); // no +IMQTTCONN:-1, no boot URC
    expect(await m.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    expect(await m.at('AT+IMQTTMODE?')).toBe(reply('+IMQTTMODE:2,0,0'));
    expect(await m.at('AT+IMQTTUSER?')).toBe(reply('+IMQTTUSER:,'));
    expect(await m.at('AT+IMQTTADDR?')).toBe(reply('+IMQTTADDR:,1883,'));
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,3,CLEAN,1,KEEPALIVE,60,VERSION,3.1.1'));
  });
});

describe('subscribing and receiving', () => {
  it('numbers requests from 2 after CONNECT and reports granted QoS, the subscription list and unsubscription status', async () => {
    const { m } = await session();
    expect(await m.at('AT+IMQTTSUB=/mqtt1/user/test,1')).toBe(OK);
    expect(await m.waitFor('+IMQTTSUB:2,1\r\n')).toBe(`${OK}${urc('+IMQTTSUB:2,1')}`);
    expect(await m.at('AT+IMQTTSUB="dev/+/cmd",0')).toBe(OK);
    await m.waitFor('+IMQTTSUB:3,0\r\n');
    expect(await m.at('AT+IMQTTSUB?')).toBe(reply('+IMQTTSUB:/mqtt1/user/test,1', '+IMQTTSUB:dev/+/cmd,0'));
    expect(await m.at('AT+IMQTTUNSUB=/mqtt1/user/test')).toBe(OK);
    expect(await m.waitFor('+IMQTTUNSUB:4,0\r\n')).toBe(`${OK}${urc('+IMQTTUNSUB:4,0')}`);
    expect(await m.at('AT+IMQTTUNSUB?')).toBe(reply('+IMQTTUNSUB:/mqtt1/user/test,0'));
    expect(await m.at('AT+IMQTTSUB?')).toBe(reply('+IMQTTSUB:dev/+/cmd,0'));
  });

  it('restarts packet ids at 2 on a new connection', async () => {
    const { m } = await session();
    expect(await m.at('AT+IMQTTPUB=a/b,0,x')).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
    expect(await m.at('AT+IMQTTDISCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:-1\r\n');
    await connect(m, []);
    expect(await m.at('AT+IMQTTPUB=a/b,0,x')).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
  });

  it('reports +IMQTTRCVPUB with the broker packet id, quoted topic, byte length and the raw payload', async () => {
    const { m, b } = await session();
    expect(await m.at('AT+IMQTTSUB=dev/down,1')).toBe(OK);
    await m.waitFor('+IMQTTSUB:2,1\r\n');
    m.clear();
    await cloudPublish(b, 'dev/down', 'test message!!', 0);
    expect(await m.waitFor('"test message!!"\r\n')).toBe(urc('+IMQTTRCVPUB:0,"dev/down",14,"test message!!"'));
    m.clear();
    const binary = Buffer.from([0x22, 0x00, 0x0d, 0x0a, 0xff, 0x2c]);
    await cloudPublish(b, 'dev/down', binary, 1);
    const out = await m.waitFor(/\+IMQTTRCVPUB:[1-9]\d*,"dev\/down",6,"[\s\S]{6}"\r\n$/);
    expect(Buffer.from(out, 'latin1').subarray(-10)).toEqual(Buffer.concat([Buffer.from('"'), binary, Buffer.from('"\r\n')]));
  });

  it('with CLEAN 0 keeps the session: messages queued while away come after +IMQTTCONN:0, and the subscriptions stay listed', async () => {
    const { m, b } = await session(['AT+IMQTTADDR=h,1883,"yuge-persist"', 'AT+IMQTTPARA=CLEAN,0']);
    expect(await m.at('AT+IMQTTSUB=dev/down,1')).toBe(OK);
    await m.waitFor('+IMQTTSUB:2,1\r\n');
    expect(await m.at('AT+IMQTTDISCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:-1\r\n');
    await cloudPublish(b, 'dev/down', 'while away', 1);
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    const out = await m.waitFor('"while away"\r\n');
    expect(out).toMatch(/^\r\nOK\r\n\r\n\+IMQTTCONN:0\r\n\r\n\+IMQTTRCVPUB:[1-9]\d*,"dev\/down",10,"while away"\r\n$/);
    expect(await m.at('AT+IMQTTSUB?')).toBe(reply('+IMQTTSUB:dev/down,1'));
  });

  it('reports a message that arrives in the same segment as the CONNACK after +IMQTTCONN:0', async () => {
    // A broker that answers CONNECT with the CONNACK and a queued message in one write.
    const oneSegment: StreamBroker = {
      handle(stream) {
        const p = mqttParser({ protocolVersion: 4 });
        p.on('packet', (packet: Packet) => {
          if (packet.cmd !== 'connect') return;
          stream.write(
            Buffer.concat([
              generate({ cmd: 'connack', returnCode: 0, sessionPresent: true }),
              generate({ cmd: 'publish', topic: 'dev/down', payload: Buffer.from('queued'), qos: 0, retain: false, dup: false }),
            ]),
          );
        });
        stream.on('data', (buf: Buffer) => p.parse(buf));
        stream.on('error', () => {});
      },
    };
    const m = createMemoryModem('yuge-clm920', { broker: oneSegment, clock: new TestClock() });
    modems.push(m);
    expect(await m.at('AT+IMQTTADDR=h,1883,"x"')).toBe(OK);
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    expect(await m.waitFor('"queued"\r\n')).toBe(`${OK}${urc('+IMQTTCONN:0')}${urc('+IMQTTRCVPUB:0,"dev/down",6,"queued"')}`);
  });

  it('reports a refused subscription as <qos> -1 and keeps it out of the list', async () => {
    const b = await broker();
    b.aedes.authorizeSubscribe = (_client, sub, done) => done(null, sub.topic === 'forbidden' ? null : sub);
    const m = modem(b.port);
    await connect(m);
    expect(await m.at('AT+IMQTTSUB=forbidden,1')).toBe(OK);
    expect(await m.waitFor('+IMQTTSUB:2,-1\r\n')).toBe(`${OK}${urc('+IMQTTSUB:2,-1')}`);
    expect(await m.at('AT+IMQTTSUB?')).toBe(OK);
  });

  it('reports -1 for a SUBACK or UNSUBACK that does not come within TIMEOUT', async () => {
    const { m } = await virtual((p) => p.cmd === 'subscribe' || p.cmd === 'unsubscribe');
    await connect(m, ['AT+IMQTTADDR=h,1883,"x"', 'AT+IMQTTPARA=TIMEOUT,1']);
    expect(await m.at('AT+IMQTTSUB=a/b,1')).toBe(OK);
    await m.waitFor('+IMQTTSUB:2,-1\r\n', 5000);
    expect(await m.at('AT+IMQTTUNSUB=a/b')).toBe(OK);
    await m.waitFor('+IMQTTUNSUB:3,-1\r\n', 5000);
    expect(await m.at('AT+IMQTTUNSUB?')).toBe(reply('+IMQTTUNSUB:a/b,-1'));
  });
});

describe('publishing (AT+IMQTTPUB, AT+IMQTTPUBIN, AT+IMQTTPUBEX)', () => {
  it('publishes text quoted or bare, QoS 0/1/2, retained or not, and reports +IMQTTPUB:<id>,0', async () => {
    const { m, b } = await session();
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    expect(await m.at('AT+IMQTTPUB= /a1R3d3WsBI0/test1/user/test,1,test message!!')).toBe(OK);
    expect(await m.waitFor('+IMQTTPUB:2,0\r\n')).toBe(`${OK}${urc('+IMQTTPUB:2,0')}`);
    expect(await m.at('AT+IMQTTPUB=up/q0,0,"a, b"')).toBe(OK);
    await m.waitFor('+IMQTTPUB:3,0\r\n');
    expect(await m.at('AT+IMQTTTPUB=up/q2,2,"two",1')).toBe(OK);
    await m.waitFor('+IMQTTPUB:4,0\r\n');
    expect(await m.at('AT+IMQTTPUB=up/digits,0,12345')).toBe(OK);
    await m.waitFor('+IMQTTPUB:5,0\r\n');
    expect(seen.map((p) => [p.topic, p.payload.toString(), p.qos, p.retain])).toEqual([
      ['/a1R3d3WsBI0/test1/user/test', 'test message!!', 1, false],
      ['up/q0', 'a, b', 0, false],
      ['up/q2', 'two', 2, true],
      ['up/digits', '12345', 0, false],
    ]);
    expect(await m.at('AT+IMQTTPUB?')).toBe(reply('+IMQTTPUB:up/digits,0,12345'));
  });

  it('AT+IMQTTPUBIN (and the AT+IMQTTTPUBIN spelling) publishes the bytes of a HEXString and answers +IMQTTPUB', async () => {
    const { m, b } = await session();
    const p1 = nextPublish(b, 'up/hex');
    expect(await m.at('AT+IMQTTPUBIN=up/hex,1,74657374206d6573736167652121')).toBe(OK);
    expect(await m.waitFor('+IMQTTPUB:2,0\r\n')).toBe(`${OK}${urc('+IMQTTPUB:2,0')}`);
    expect((await p1).payload.toString()).toBe('test message!!');
    const p2 = nextPublish(b, 'up/json');
    expect(await m.at('AT+IMQTTTPUBIN=up/json,0,7B2261223A317D00FF,1')).toBe(OK);
    await m.waitFor('+IMQTTPUB:3,0\r\n');
    const got = await p2;
    expect(got.payload).toEqual(Buffer.from('{"a":1}\x00\xff', 'latin1'));
    expect(got.retain).toBe(true);
    expect(await m.at('AT+IMQTTPUBIN?')).toBe(reply('+IMQTTPUBIN:up/json,0,7B2261223A317D00FF'));
  });

  it('AT+IMQTTPUBEX prompts with ">", takes exactly <size> bytes of any value, then OK and +IMQTTPUBEX', async () => {
    const { m, b } = await session();
    const payload = Buffer.from([0x7b, 0x0d, 0x0a, 0x1a, 0x1b, 0x00, 0xff, 0x7d]);
    const pub = nextPublish(b, 'up/ex');
    m.clear();
    m.send('AT+IMQTTPUBEX=up/ex,1,0,8\r');
    expect(await m.waitFor(/>$/)).toBe('\r\n>');
    m.clear();
    // The bytes after the payload are the next command.
    m.send(Buffer.concat([payload, Buffer.from('AT\r')]));
    expect(await m.waitFor('+IMQTTPUBEX:2,0\r\n')).toBe(`${OK}${OK}${urc('+IMQTTPUBEX:2,0')}`);
    expect((await pub).payload).toEqual(payload);
  });

  it('accepts the manual\'s AT+MQTTPUBEX and AT+IMQTTTPUBEX spellings', async () => {
    const { m, b } = await session();
    for (const [i, name] of ['AT+MQTTPUBEX', 'AT+IMQTTTPUBEX'].entries()) {
      const pub = nextPublish(b, 'up/ex');
      m.clear();
      m.send(`${name}= up/ex,0,0,14\r`);
      await m.waitFor(/\r\n>$/);
      m.send('test message!!');
      await m.waitFor(`+IMQTTPUBEX:${i + 2},0\r\n`);
      expect((await pub).payload.toString()).toBe('test message!!');
    }
  });

  it('reports +IMQTTPUB:<id>,1 when the PUBACK does not come within TIMEOUT; the next request takes the next id', async () => {
    const { m } = await virtual((p) => p.cmd === 'publish' && p.topic === 'no/ack');
    await connect(m, ['AT+IMQTTADDR=h,1883,"x"', 'AT+IMQTTPARA=TIMEOUT,1']);
    expect(await m.at('AT+IMQTTPUB=no/ack,1,lost')).toBe(OK);
    expect(await m.at('AT+IMQTTPUB=acked,1,fine')).toBe(OK);
    await m.waitFor('+IMQTTPUB:3,0\r\n');
    await m.waitFor('+IMQTTPUB:2,1\r\n', 5000);
  });
});

describe('cache mode (AT+IMQTTRECVMODE=1, AT+IMQTTRECV)', () => {
  it('stores 10 messages with +IMQTTCOUNT: <n>, drops the rest with +IMQTTCOUNT: FULL, and reads the oldest first', async () => {
    const { m, b } = await session();
    expect(await m.at('AT+IMQTTSUB=dev/down,0')).toBe(OK);
    await m.waitFor('+IMQTTSUB:2,0\r\n');
    expect(await m.at('AT+IMQTTRECVMODE=1')).toBe(OK);
    m.clear();
    for (let i = 1; i <= 12; i++) await cloudPublish(b, 'dev/down', `test message${i}!!`);
    const expected = [...Array.from({ length: 10 }, (_, i) => urc(`+IMQTTCOUNT: ${i + 1}`)), urc('+IMQTTCOUNT: FULL'), urc('+IMQTTCOUNT: FULL')].join('');
    expect(await m.waitFor(/(\+IMQTTCOUNT: FULL\r\n[\s\S]*){2}/)).toBe(expected);
    expect(await m.at('AT+IMQTTRECV?')).toBe(reply('+IMQTTRECV: 10'));
    expect(await m.at('AT+IMQTTRECV=3')).toBe(
      reply(
        '+IMQTTRECV:0,"dev/down",15,"test message1!!"',
        '+IMQTTRECV:0,"dev/down",15,"test message2!!"',
        '+IMQTTRECV:0,"dev/down",15,"test message3!!"',
      ),
    );
    expect(await m.at('AT+IMQTTRECV?')).toBe(reply('+IMQTTRECV: 7'));
    // Room again: the next message is stored.
    m.clear();
    await cloudPublish(b, 'dev/down', 'late');
    expect(await m.waitFor('+IMQTTCOUNT: 8\r\n')).toBe(urc('+IMQTTCOUNT: 8'));
    const rest = await m.at('AT+IMQTTRECV=10');
    expect(rest.match(/\+IMQTTRECV:/g)).toHaveLength(8);
    expect(rest).toContain('"test message10!!"\r\n+IMQTTRECV:0,"dev/down",4,"late"\r\n\r\nOK\r\n');
    expect(await m.at('AT+IMQTTRECV=1')).toBe(OK);
  });

  it('reports at once again after AT+IMQTTRECVMODE=0', async () => {
    const { m, b } = await session(['AT+IMQTTADDR=h,1883,"c"', 'AT+IMQTTMODE=2,0,1']);
    expect(await m.at('AT+IMQTTSUB=t,0')).toBe(OK);
    await m.waitFor('+IMQTTSUB:2,0\r\n');
    await cloudPublish(b, 't', 'cached');
    await m.waitFor('+IMQTTCOUNT: 1\r\n');
    expect(await m.at('AT+IMQTTRECVMODE=0')).toBe(OK);
    m.clear();
    await cloudPublish(b, 't', 'direct');
    expect(await m.waitFor('"direct"\r\n')).toBe(urc('+IMQTTRCVPUB:0,"t",6,"direct"'));
    expect(await m.at('AT+IMQTTRECV=1')).toBe(reply('+IMQTTRECV:0,"t",6,"cached"'));
  });
});

describe('Aliyun sign-in computed by the module (AT+IMQTTMODE=1, AT+IMQTTAUTH)', () => {
  it('sends the Link SDK 4.1.0 clientId, username and HMAC-SHA256 password, securemode 3 over TCP', async () => {
    const b = await broker();
    const seen: AuthRequest[] = [];
    b.setAuthenticator((req) => {
      seen.push(req);
      return true;
    });
    const m = modem(b.port);
    await connect(m, ['AT+IMQTTAUTH=a1R3d3WsBI0,test1,c75b6a4e39342f02ec161ba682566054', 'AT+IMQTTMODE=1,0']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.clientId).toBe('a1R3d3WsBI0.test1|timestamp=2524608000000,_ss=1,_v=sdk-c-4.1.0,securemode=3,signmethod=hmacsha256,ext=3|');
    expect(seen[0]!.username).toBe('test1&a1R3d3WsBI0');
    // HMAC-SHA256("c75b…", "clientIda1R3d3WsBI0.test1deviceNametest1productKeya1R3d3WsBI0timestamp2524608000000")
    expect(seen[0]!.password!.toString()).toMatch(/^[0-9A-F]{64}$/);
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', 'c75b6a4e39342f02ec161ba682566054')
      .update('clientIda1R3d3WsBI0.test1deviceNametest1productKeya1R3d3WsBI0timestamp2524608000000')
      .digest('hex')
      .toUpperCase();
    expect(seen[0]!.password!.toString()).toBe(expected);
  });

  it('uses AT+IMQTTUSER and AT+IMQTTADDR as given in Aliyun mode without a triple (a registration-free sign-in)', async () => {
    const b = await broker();
    const seen: AuthRequest[] = [];
    b.setAuthenticator((req) => {
      seen.push(req);
      return true;
    });
    const m = modem(b.port);
    const cid = 'CjM0zO9QT3qPCejlkMYv000100|authType=connwl,securemode=-2,_ss=1,ext=3,_v=sdk-c-4.1.0|';
    await connect(m, [
      'AT+IMQTTMODE=1,0',
      'AT+IMQTTUSER="SDK_0007&a1m8qO1ceKE","^1^1684838886568^a073eaabcf8a7f3"',
      `AT+IMQTTADDR="a1m8qO1ceKE.iot-as-mqtt.cn-shanghai.aliyuncs.com",1883,"${cid}"`,
    ]);
    expect([seen[0]!.clientId, seen[0]!.username, seen[0]!.password!.toString()]).toEqual([cid, 'SDK_0007&a1m8qO1ceKE', '^1^1684838886568^a073eaabcf8a7f3']);
  });
});

describe('dynamic registration time limit (AT+IMQTTDYNREG)', () => {
  it('reports +IMQTTDYNREG:-1 when the platform accepts the CONNECT but no reply comes within the time limit, and closes the connection', async () => {
    const { m, b, clock } = await virtual(); // a plain broker: it never answers on /ext/register
    expect(await m.at('AT+IMQTTADDR=h,1883,""')).toBe(OK);
    const t0 = clock.now();
    expect(await m.at('AT+IMQTTDYNREG=0,1,"pk","dev","secret"')).toBe(OK);
    expect(await m.waitFor('+IMQTTDYNREG:-1\r\n', 20_000)).toBe(`${OK}${urc('+IMQTTDYNREG:-1')}`);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(10_000); // the profile's dynregTimeout
    expect(Object.keys(clientsOf(b))).toEqual([]);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    expect(await m.at('AT+IMQTTDYNREG?')).toBe(reply('+IMQTTDYNREG:0,1,pk,dev,secret'));
  });
});
