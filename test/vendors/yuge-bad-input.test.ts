/**
 * The CLM920 under bad input: unknown commands and forms, malformed arguments, IMQTTPARA keys it
 * does not know, every module limit, and data mode that goes wrong. Every case answers the
 * module's one documented failure, a plain `ERROR` (whatever AT+CMEE says), changes nothing, and
 * the module — and an established MQTT session — keeps working afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import type { YugeProfileData } from '../../src/vendors/yuge/imqtt/context.js';
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
    const { m, b } = await session();
    data(m).dataIdleTimeoutMs = 100;
    const seen: BrokerPublish[] = [];
    b.onPublish((p) => seen.push(p));
    m.clear();
    m.send('AT+IMQTTPUBEX=a/b,1,0,10\r');
    await m.waitFor(/\r\n>$/);
    m.send('12345');
    expect(await m.waitFor('ERROR\r\n', 2000)).toBe(`\r\n>${ERROR}`);
    expect(await m.at('AT')).toBe(OK);
    expect(seen).toEqual([]);
    expect(await m.at('AT+IMQTTPUB=a/b,0,ok')).toBe(OK);
    await m.waitFor('+IMQTTPUB:2,0\r\n');
  });

  it('AT+IMQTTPUBEX answers ERROR when the connection is lost while the host is sending', async () => {
    const { m, b } = await session();
    m.clear();
    m.send('AT+IMQTTPUBEX=a/b,1,0,4\r');
    await m.waitFor(/\r\n>$/);
    clientsOf(b)['bad-input']!.close();
    const state = () => (m.modem.inspect()['yuge-imqtt'] as { state: string }).state;
    for (let i = 0; i < 100 && state() !== 'idle'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(state()).toBe('idle');
    m.send('data');
    // The URC waits until the data-mode exchange has its final result.
    expect(await m.waitFor('+IMQTTCONN:-1\r\n')).toBe(`\r\n>${ERROR}\r\n+IMQTTCONN:-1\r\n`);
    expect(await m.at('AT+IMQTTSTATE?')).toBe(reply('+IMQTTSTATE:0'));
  });
});
