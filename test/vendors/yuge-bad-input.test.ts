/**
 * The CLM920 under bad input: unknown commands and forms, malformed arguments, IMQTTPARA keys it
 * does not know, every module limit, and data mode that goes wrong. Every case answers the
 * module's one documented failure, a plain `ERROR` (whatever AT+CMEE says), changes nothing, and
 * the module — and an established MQTT session — keeps working afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import type { YugeProfileData } from '../../src/vendors/yuge/imqtt/context.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;

const modems: MemoryModem[] = [];
const brokers: EmbeddedBroker[] = [];

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

function modem(brokerPort?: number): MemoryModem {
  const m = createMemoryModem('yuge-clm920', brokerPort === undefined ? {} : { brokerPort });
  modems.push(m);
  return m;
}

function data(m: MemoryModem): YugeProfileData {
  return m.modem.profile.settings['yuge-imqtt'] as YugeProfileData;
}

/** A modem connected to a fresh embedded broker as client id "bad-input". */
async function session(): Promise<{ m: MemoryModem; b: EmbeddedBroker }> {
  const b = await startEmbeddedBroker({ port: 0 });
  brokers.push(b);
  const m = modem(b.port);
  expect(await m.at('AT+IMQTTADDR=h,1883,"bad-input"')).toBe(OK);
  expect(await m.at('AT+IMQTTCONN')).toBe(OK);
  await m.waitFor('+IMQTTCONN:0\r\n');
  return { m, b };
}

/**
 * A modem on the in-memory link to a fresh embedded broker, on a TestClock with the profile's real
 * timings (waits run in virtual time), connected as client id "bad-input" unless told not to.
 */
async function virtualSession(connect = true): Promise<{ m: MemoryModem; b: EmbeddedBroker; clock: TestClock }> {
  const b = await startEmbeddedBroker({ port: 0 });
  brokers.push(b);
  const clock = new TestClock();
  const m = createMemoryModem('yuge-clm920', { broker: b.aedes, clock, timing: 'real' });
  modems.push(m);
  expect(await m.at('AT+IMQTTADDR=h,1883,"bad-input"')).toBe(OK);
  if (connect) {
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:0\r\n');
  }
  return { m, b, clock };
}

/** Every line answers ERROR, and `read` (when given) still answers `before` afterwards. */
async function allError(m: MemoryModem, lines: string[], read?: string): Promise<void> {
  const before = read ? await m.at(read) : undefined;
  for (const l of lines) expect(await m.at(l), l).toBe(ERROR);
  if (read) expect(await m.at(read), `${read} after the refused lines`).toBe(before);
  expect(await m.at('AT')).toBe(OK);
}

/** Aedes' connected clients by id (not in its typings). */
const clientsOf = (b: EmbeddedBroker) => (b.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;

const x = (n: number, c = 'a') => c.repeat(n);

describe('commands and forms the module does not have', () => {
  it('answers ERROR (not +CME ERROR) to unknown IMQTT commands and undocumented forms', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=2')).toBe(OK);
    await allError(m, [
      'AT+IMQTTFOO',
      'AT+IMQTTFOO=1',
      'AT+IMQTT',
      'AT+IMQTTCONN?',
      'AT+IMQTTCONN=1',
      'AT+IMQTTDISCONN=?',
      'AT+IMQTTDISCONN?',
      'AT+IMQTTSTATE',
      'AT+IMQTTSTATE=1',
      'AT+IMQTTMODE',
      'AT+IMQTTPARA',
      'AT+IMQTTRECV',
      'AT+IMQTTDYNREG',
      'AT+IMQTTSUB',
      'AT+IMQTTPUB',
    ]);
  });

  it('answers ERROR to a line that is too long or not well formed, and carries on', async () => {
    const m = modem();
    await allError(m, [`AT+IMQTTPUB=t,0,"${x(5000)}"`, 'AT+IMQTTUSER="unterminated,pwd', 'AT+IMQTTADDR=h"x",1883', 'AT+IMQTTMODE?junk']);
  });
});

describe('argument checks', () => {
  it('AT+IMQTTMODE: mode 1–2, tls 0–1, recvMode 0–1, two or three integers', async () => {
    const m = modem();
    await allError(m, ['AT+IMQTTMODE=3,0', 'AT+IMQTTMODE=0,0', 'AT+IMQTTMODE=1', 'AT+IMQTTMODE=1,2', 'AT+IMQTTMODE=1,0,2', 'AT+IMQTTMODE=a,b', 'AT+IMQTTMODE=1,0,0,0', 'AT+IMQTTMODE=', 'AT+IMQTTMODE="1","0"'], 'AT+IMQTTMODE?');
    await allError(m, ['AT+IMQTTRECVMODE=2', 'AT+IMQTTRECVMODE=', 'AT+IMQTTRECVMODE=1,1', 'AT+IMQTTRECVMODE=on'], 'AT+IMQTTRECVMODE?');
  });

  it('AT+IMQTTPARA refuses unknown keys, repeated keys, missing values and values out of range — and changes nothing', async () => {
    const m = modem();
    expect(await m.at('AT+IMQTTPARA=TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1')).toBe(OK);
    await allError(
      m,
      [
        'AT+IMQTTPARA=FOO,1',
        'AT+IMQTTPARA=TIMEOUT,2,QOS,1',
        'AT+IMQTTPARA=TIMEOUT,2,CLEAN,1,KEEPALIVE,90,VERSION,3.1,RETAIN,0',
        'AT+IMQTTPARA="TIME OUT",2',
        'AT+IMQTTPARA=TIMEOUTS,2',
        'AT+IMQTTPARA=1,1',
        'AT+IMQTTPARA=TIMEOUT',
        'AT+IMQTTPARA=TIMEOUT,2,CLEAN',
        'AT+IMQTTPARA=',
        'AT+IMQTTPARA=TIMEOUT,2,TIMEOUT,3',
        'AT+IMQTTPARA=TIMEOUT,0',
        'AT+IMQTTPARA=TIMEOUT,4',
        'AT+IMQTTPARA=TIMEOUT,two',
        'AT+IMQTTPARA=CLEAN,2',
        'AT+IMQTTPARA=CLEAN,-1',
        'AT+IMQTTPARA=KEEPALIVE,59',
        'AT+IMQTTPARA=KEEPALIVE,181',
        'AT+IMQTTPARA=KEEPALIVE,',
        'AT+IMQTTPARA=VERSION,3.0',
        'AT+IMQTTPARA=VERSION,5',
        'AT+IMQTTPARA=VERSION,4',
        'AT+IMQTTPARA=VERSION,"3.1.1 "',
      ],
      'AT+IMQTTPARA?',
    );
    expect(await m.at('AT+IMQTTPARA?')).toBe(reply('+IMQTTPARA:TIMEOUT,1,CLEAN,0,KEEPALIVE,60,VERSION,3.1.1'));
    // The edges are accepted.
    for (const l of ['AT+IMQTTPARA=TIMEOUT,3', 'AT+IMQTTPARA=KEEPALIVE,180', 'AT+IMQTTPARA=KEEPALIVE,60', 'AT+IMQTTPARA=CLEAN,1']) expect(await m.at(l), l).toBe(OK);
  });

  it('AT+IMQTTUSER: both arguments, each within its limit', async () => {
    const m = modem();
    const d = data(m);
    expect(await m.at(`AT+IMQTTUSER=${x(d.maxUserLength)},${x(d.maxPasswordLength)}`)).toBe(OK);
    await allError(m, ['AT+IMQTTUSER=name001', `AT+IMQTTUSER=${x(d.maxUserLength + 1)},p`, `AT+IMQTTUSER=u,${x(d.maxPasswordLength + 1)}`, 'AT+IMQTTUSER=u,p,extra'], 'AT+IMQTTUSER?');
  });

  it('AT+IMQTTADDR: a non-empty address within its limit, port 1–65535, client id within its limit', async () => {
    const m = modem();
    const d = data(m);
    expect(await m.at(`AT+IMQTTADDR=${x(d.maxAddrLength)},65535,"${x(d.maxClientIdLength)}"`)).toBe(OK);
    await allError(
      m,
      [
        'AT+IMQTTADDR=h,0,"c"',
        'AT+IMQTTADDR=h,65536,"c"',
        'AT+IMQTTADDR=h,port,"c"',
        'AT+IMQTTADDR=h',
        'AT+IMQTTADDR="",1883,"c"',
        `AT+IMQTTADDR=${x(d.maxAddrLength + 1)},1883,"c"`,
        `AT+IMQTTADDR=h,1883,"${x(d.maxClientIdLength + 1)}"`,
        'AT+IMQTTADDR=h,1883,"c",4',
      ],
      'AT+IMQTTADDR?',
    );
  });

  it('AT+IMQTTLWT and AT+IMQTTLWTBIN: QoS 0–2, retained 0–1, topic and message within limits, real hex', async () => {
    const m = modem();
    const d = data(m);
    expect(await m.at(`AT+IMQTTLWT=${x(d.maxTopicLength)},2,"${x(d.maxMessageLength)}",1`)).toBe(OK);
    expect(await m.at(`AT+IMQTTLWTBIN=t,0,${x(d.maxMessageLength * 2, 'A')}`)).toBe(OK);
    await allError(
      m,
      [
        'AT+IMQTTLWT=t,3,m',
        'AT+IMQTTLWT=t,0,m,2',
        'AT+IMQTTLWT=t,0',
        'AT+IMQTTLWT=t,q,m',
        `AT+IMQTTLWT=${x(d.maxTopicLength + 1)},0,m`,
        `AT+IMQTTLWT=t,0,"${x(d.maxMessageLength + 1)}"`,
        'AT+IMQTTLWTBIN=t,0,ABC',
        'AT+IMQTTLWTBIN=t,0,GG',
        'AT+IMQTTLWTBIN=t,0,"41 42"',
        `AT+IMQTTLWTBIN=t,0,${x(d.maxMessageLength * 2 + 2, 'A')}`,
      ],
      'AT+IMQTTLWTBIN?',
    );
  });

  it('AT+IMQTTAUTH: all three or none, each within its limit', async () => {
    const m = modem();
    const d = data(m);
    expect(await m.at(`AT+IMQTTAUTH=${x(d.maxProductKeyLength)},${x(d.maxDeviceNameLength)},${x(d.maxSecretLength)}`)).toBe(OK);
    await allError(
      m,
      [
        'AT+IMQTTAUTH=pk,dn',
        'AT+IMQTTAUTH=pk,"",ds',
        'AT+IMQTTAUTH="",dn,ds',
        'AT+IMQTTAUTH=pk,,ds',
        'AT+IMQTTAUTH=a1ArHWIBwWN,,mqtt1,Fg5PVTXX6fjI7A8Bli2Oj9z9rUeLMftK',
        `AT+IMQTTAUTH=${x(d.maxProductKeyLength + 1)},dn,ds`,
        `AT+IMQTTAUTH=pk,${x(d.maxDeviceNameLength + 1)},ds`,
        `AT+IMQTTAUTH=pk,dn,${x(d.maxSecretLength + 1)}`,
      ],
      'AT+IMQTTAUTH?',
    );
  });

  it('AT+IMQTTDYNREG: type 0–2, mode 1–2, three non-empty strings within limits; type 2 takes nothing more', async () => {
    const m = modem();
    const d = data(m);
    await allError(
      m,
      [
        'AT+IMQTTDYNREG=3',
        'AT+IMQTTDYNREG=0',
        'AT+IMQTTDYNREG=1,1',
        'AT+IMQTTDYNREG=1,3,pk,dn,ps',
        'AT+IMQTTDYNREG=1,0,pk,dn,ps',
        'AT+IMQTTDYNREG=3,1,pk,dn,ps',
        'AT+IMQTTDYNREG=1,1,"",dn,ps',
        'AT+IMQTTDYNREG=1,1,pk,dn,""',
        'AT+IMQTTDYNREG=1,1,pk,dn',
        'AT+IMQTTDYNREG=1,1,pk,dn,ps,x',
        'AT+IMQTTDYNREG=2,1',
        'AT+IMQTTDYNREG=2,1,pk,dn,ps',
        `AT+IMQTTDYNREG=1,1,${x(d.maxProductKeyLength + 1)},dn,ps`,
        `AT+IMQTTDYNREG=1,1,pk,${x(d.maxDeviceNameLength + 1)},ps`,
        `AT+IMQTTDYNREG=1,1,pk,dn,${x(d.maxSecretLength + 1)}`,
      ],
      'AT+IMQTTDYNREG=2',
    );
    expect(await m.at('AT+IMQTTDYNREG?')).toBe(OK);
  });

  it('AT+IMQTTRECV: <count> 1–10', async () => {
    const m = modem();
    await allError(m, ['AT+IMQTTRECV=0', 'AT+IMQTTRECV=11', 'AT+IMQTTRECV=-1', 'AT+IMQTTRECV=all', 'AT+IMQTTRECV=', 'AT+IMQTTRECV=1,2']);
  });
});

describe('state rules', () => {
  it('AT+IMQTTCONN needs somewhere to connect: an address (standard), or a triple or an address (Aliyun)', async () => {
    const m = modem();
    await allError(m, ['AT+IMQTTCONN']);
    expect(await m.at('AT+IMQTTMODE=1,0')).toBe(OK);
    await allError(m, ['AT+IMQTTCONN']);
    expect(await m.at('AT+IMQTTMODE=2,0')).toBe(OK);
    expect(await m.at('AT+IMQTTAUTH=pk,dn,ds')).toBe(OK);
    await allError(m, ['AT+IMQTTCONN']); // a triple is not used in standard mode
  });

  it('subscribe, unsubscribe, publish and disconnect need a connection', async () => {
    const m = modem();
    await allError(m, ['AT+IMQTTSUB=a/b,0', 'AT+IMQTTUNSUB=a/b', 'AT+IMQTTPUB=a/b,0,x', 'AT+IMQTTPUBIN=a/b,0,41', 'AT+IMQTTPUBEX=a/b,0,0,1', 'AT+IMQTTDISCONN']);
    expect(m.output()).not.toContain('>');
  });

  it('AT+IMQTTCONN and AT+IMQTTDYNREG are refused while a connection attempt is running', async () => {
    const m = modem();
    // Two commands on one line: the second runs while the first one's attempt is under way.
    expect(await m.at('AT+IMQTTADDR=h,1883,"c"')).toBe(OK);
    expect(await m.at('AT+IMQTTCONN;+IMQTTCONN')).toBe(ERROR);
    await m.waitFor('+IMQTTCONN:-1\r\n');
    expect(await m.at('AT+IMQTTCONN;+IMQTTDYNREG=1,1,pk,dn,ps')).toBe(ERROR);
    await m.waitFor('+IMQTTCONN:-1\r\n');
  });
});

describe('limits and failures inside an established session', () => {
  it('refuses bad topics, QoS and oversized messages, and the session keeps working', async () => {
    const { m, b } = await session();
    const d = data(m);
    await allError(m, [
      'AT+IMQTTSUB=a/b,2',
      'AT+IMQTTSUB=a/b,-1',
      'AT+IMQTTSUB=a/#/b,0',
      'AT+IMQTTSUB=a+,0',
      'AT+IMQTTSUB="",0',
      `AT+IMQTTSUB=${x(d.maxTopicLength + 1)},0`,
      'AT+IMQTTSUB=a/b',
      'AT+IMQTTUNSUB=a/#/b',
      'AT+IMQTTUNSUB=""',
      'AT+IMQTTUNSUB=a,b',
      'AT+IMQTTPUB=a/+,0,x',
      'AT+IMQTTPUB=a/#,0,x',
      'AT+IMQTTPUB=a/b,3,x',
      'AT+IMQTTPUB=a/b,0,x,2',
      'AT+IMQTTPUB=a/b,0',
      `AT+IMQTTPUB=a/b,0,"${x(d.maxMessageLength + 1)}"`,
      `AT+IMQTTPUB=${x(d.maxTopicLength + 1)},0,x`,
      'AT+IMQTTPUBIN=a/b,0,123',
      'AT+IMQTTPUBIN=a/b,0,zz',
      `AT+IMQTTPUBIN=a/b,0,${x((d.maxMessageLength + 1) * 2, 'B')}`,
      'AT+IMQTTPUBEX=a/b,0,0,0',
      `AT+IMQTTPUBEX=a/b,0,0,${d.maxMessageLength + 1}`,
      'AT+IMQTTPUBEX=a/+,0,0,1',
      'AT+IMQTTPUBEX=a/b,3,0,1',
      'AT+IMQTTPUBEX=a/b,0,2,1',
      'AT+IMQTTPUBEX=a/b,0,0',
      'AT+IMQTTDYNREG=1,1,pk,dn,ps',
    ]);
    // The limits themselves are accepted.
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    expect(await m.at(`AT+IMQTTPUB=a/b,0,"${x(d.maxMessageLength)}"`)).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
    expect(await m.at(`AT+IMQTTPUBIN=a/b,0,${x(d.maxMessageLength * 2, 'B')}`)).toBe(OK);
    await m.waitFor('+IMQTTPUB:3,0\r\n');
    expect(seen.map((p) => p.payload.length)).toEqual([d.maxMessageLength, d.maxMessageLength]);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });

  it('AT+IMQTTPUBEX gives up with ERROR when the host stops sending, publishes nothing, and reads commands again', async () => {
    const { m, b, clock } = await virtualSession();
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    m.clear();
    m.send('AT+IMQTTPUBEX=a/b,1,0,10\r');
    await m.waitFor(/\r\n>$/);
    m.send('12345');
    const t0 = clock.now();
    expect(await m.waitFor('ERROR\r\n', data(m).dataIdleTimeoutMs + 1000)).toBe(`\r\n>${ERROR}`);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(data(m).dataIdleTimeoutMs);
    expect(await m.at('AT')).toBe(OK);
    expect(seen).toEqual([]);
    expect(await m.at('AT+IMQTTPUB=a/b,0,ok')).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
  });

  it('AT+IMQTTPUBEX answers ERROR when the connection is lost while the host is sending', async () => {
    const { m, b, clock } = await virtualSession();
    m.clear();
    m.send('AT+IMQTTPUBEX=a/b,1,0,4\r');
    await m.waitFor(/\r\n>$/);
    clientsOf(b)['bad-input']!.close();
    const state = () => (m.modem.inspect()['yuge-imqtt'] as { state: string }).state;
    await clock.advance(0); // the close crosses the in-memory link
    expect(state()).toBe('idle');
    m.send('data');
    // The URC waits until the data-mode exchange has its final result.
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(`\r\n>${ERROR}\r\n+IMQTTCONN:-1\r\n`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
  });
});

describe('requests that must not stop the process', () => {
  it('answers requests pipelined in one write before the previous result in order: ERROR while the connection is still being made, OK once it is up', async () => {
    const { m } = await virtualSession(false);
    m.clear();
    m.send('AT+IMQTTCONN\rAT+IMQTTCONN\rAT+IMQTTSUB=a/b,1\rAT+IMQTTPUB=a/b,1,x\rAT+IMQTTPUBIN=a/b,0,41\rAT+IMQTTPUBEX=a/b,0,0,1\rAT+IMQTTUNSUB=a/b\rAT+IMQTTDYNREG=0,1,pk,dn,ps\rAT\r');
    expect(await m.waitFor('+IMQTTCONN:0\r\n')).toBe(`${OK}${ERROR.repeat(7)}${OK}\r\n+IMQTTCONN:0\r\n`);
    expect(m.output()).not.toContain('>');
    m.clear();
    m.send('AT+IMQTTSUB=a/b,1\rAT+IMQTTPUB=a/b,1,x\rAT+IMQTTUNSUB=a/b\rAT+IMQTTPUB=a/b,0,y\rAT+IMQTTCONN\r');
    const out = await m.waitFor(/(\+IMQTT(SUB|UNSUB|PUB):\d+,-?\d\r\n[\s\S]*){4}$/);
    expect(out.startsWith(OK.repeat(5))).toBe(true);
    for (const result of ['+IMQTTSUB:2,1', '+IMQTTPUB:3,0', '+IMQTTUNSUB:4,0', '+IMQTTPUB:5,0', '+IMQTTCONN:1']) expect(out).toContain(`\r\n${result}\r\n`);
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });

  it('answers ERROR to every publish form while a registration runs and after the connection is lost, without a prompt; AT answers OK afterwards', async () => {
    const { m, b } = await virtualSession();
    clientsOf(b)['bad-input']!.close();
    await m.waitFor('+IMQTTCONN:-1\r\n');
    const requests = ['AT+IMQTTPUB=a/b,1,x', 'AT+IMQTTPUBIN=a/b,1,41', 'AT+IMQTTPUBEX=a/b,1,0,1', 'AT+IMQTTSUB=a/b,1', 'AT+IMQTTUNSUB=a/b'];
    await allError(m, requests);
    // A registration (no reply comes from a plain broker) is no connection either.
    expect(await m.at('AT+IMQTTDYNREG=0,1,pk,dn,ps')).toBe(OK);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
    await allError(m, [...requests, 'AT+IMQTTCONN', 'AT+IMQTTDYNREG=0,1,pk,dn,ps']);
    expect(m.output()).not.toContain('>');
    await m.waitFor('+IMQTTDYNREG:-1\r\n', 20_000);
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at('AT+IMQTTCONN')).toBe(OK);
    await m.waitFor('+IMQTTCONN:0\r\n');
    expect(await m.at('AT+IMQTTPUB=a/b,1,x')).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
  });

  it('takes command lines sent in AT+IMQTTPUBEX data mode as payload bytes and runs none of them', async () => {
    const { m, b } = await virtualSession();
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    const lines = 'AT+IMQTTDISCONN\rAT+CFUN=0\rAT\r';
    m.clear();
    m.send(`AT+IMQTTPUBEX=a/b,1,0,${lines.length}\r`);
    await m.waitFor(/\r\n>$/);
    m.send(lines);
    expect(await m.waitFor('+IMQTTPUBEX:2,0\r\n')).toBe(`\r\n>${OK}\r\n+IMQTTPUBEX:2,0\r\n`);
    expect(seen.map((p) => p.payload.toString('latin1'))).toEqual([lines]);
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:2'));
  });
});
