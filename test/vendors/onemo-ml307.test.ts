/**
 * The OneMO MQTT set of the onemo-ml307 profile against real brokers (embedded Aedes over TCP, a
 * scriptable raw broker for CONNECT details): replies and URCs for their real causes (manual
 * §3.2–§3.9, §5). Retransmission, reconnection and network loss run on the in-memory broker link
 * and a TestClock (test/helpers/virtual-modem.ts) with the manual's real waits in virtual time.
 */
import net from 'node:net';
import type { Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { brokerLinkOpener } from '../../src/modem/link-opener.js';
import { Modem } from '../../src/modem/modem.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { silentLogger } from '../../src/util/logger.js';
import { startFakeBroker, startSilentServer, type FakeBroker } from '../mqtt/fake-broker.js';
import { virtualModem, type VirtualModem } from '../helpers/virtual-modem.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;

const modems: { stop(): Promise<void> }[] = [];
const cleanups: (() => Promise<void>)[] = [];
let broker: EmbeddedBroker;

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function modem(brokerPort?: number): MemoryModem {
  const m = createMemoryModem('onemo-ml307', { brokerPort });
  modems.push(m);
  return m;
}

async function setup(): Promise<MemoryModem> {
  broker = await startEmbeddedBroker({ port: 0 });
  const b = broker;
  cleanups.push(() => b.close());
  return modem(b.port);
}

/** A modem on the in-memory broker link and a TestClock (the manual's real waits, virtual time). */
async function virtual(drop?: (p: Packet) => boolean): Promise<VirtualModem> {
  const v = await virtualModem('onemo-ml307', drop);
  broker = v.broker;
  modems.push(v);
  return v;
}

async function fake(opts: Parameters<typeof startFakeBroker>[0] = {}): Promise<FakeBroker> {
  const f = await startFakeBroker(opts);
  cleanups.push(() => f.close());
  return f;
}

async function connect(m: MemoryModem, id = 0, clientId = `dev-${id}`): Promise<void> {
  expect(await m.at(`AT+MQTTCONN=${id},"iot.example.com",1883,"${clientId}","",""`)).toBe(OK);
  await m.waitFor(`+MQTTURC: "conn",${id},0\r\n`);
}

async function subscribe(m: MemoryModem, topic: string, qos = 1, id = 0): Promise<void> {
  const r = await m.at(`AT+MQTTSUB=${id},"${topic}",${qos}`);
  const mid = /\+MQTTSUB: \d,(\d+)/.exec(r)![1];
  await m.waitFor(`+MQTTURC: "suback",${id},${mid},${qos}\r\n`);
}

function cloudPublish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false, messageId: 0 } as never,
      (err?: Error) => (err ? reject(err) : resolve()),
    ),
  );
}

function published(): BrokerPublish[] {
  const seen: BrokerPublish[] = [];
  broker.onPublish((p) => seen.push(p));
  return seen;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A modem whose profile data is changed (shorter data-mode timeout, smaller cache…). */
function modemWith(brokerPort: number, data: Record<string, unknown>): MemoryModem {
  const profile = loadProfile('onemo-ml307');
  profile.settings['onemo-mqtt'] = { ...(profile.settings['onemo-mqtt'] as object), ...data };
  const port = new MemoryPort();
  const log = silentLogger();
  const m = new Modem({
    profile,
    port,
    log,
    links: brokerLinkOpener({ plain: { host: '127.0.0.1', port: brokerPort } }, log),
    commandSets: COMMAND_SETS,
    timing: 'fast',
    bootUrcs: false,
  });
  m.engine.settings.echo = false;
  const output = () => port.host.received.toString('latin1');
  const waitFor = (pattern: string | RegExp, timeoutMs = 5000) =>
    new Promise<string>((resolve, reject) => {
      const test = () => (typeof pattern === 'string' ? output().includes(pattern) : pattern.test(output()));
      if (test()) return resolve(output());
      const off = port.host.onData(() => {
        if (!test()) return;
        off();
        clearTimeout(t);
        resolve(output());
      });
      const t = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for ${String(pattern)}; output: ${JSON.stringify(output())}`));
      }, timeoutMs);
    });
  const mm: MemoryModem = {
    modem: m,
    port,
    send: (b) => port.host.send(b),
    at: async (line) => {
      port.host.clear();
      port.host.send(`${line}\r`);
      return waitFor(/\r\n(OK|ERROR|\+CME ERROR: [^\r]*)\r\n$|\r\n> $/);
    },
    waitFor,
    output,
    clear: () => port.host.clear(),
    stop: () => m.stop(),
  };
  modems.push(mm);
  return mm;
}

describe('AT+MQTTCONN', () => {
  it('answers OK, then "conn",<id>,0, and sends the client id, user name and password given', async () => {
    const m = await setup();
    const seen: { clientId: string; username?: string; password?: string }[] = [];
    broker.setAuthenticator((r) => {
      seen.push({ clientId: r.clientId, username: r.username, password: r.password?.toString() });
      return true;
    });
    expect(await m.at('AT+MQTTCONN=?')).toBe(reply('+MQTTCONN: (0-5),"host",(0-65535),"clientid","user","passwd"'));
    expect(await m.at('AT+MQTTCONN=3,"mqtt.heclouds.com",6002,"716335458","425089","SnMH="')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",3,0\r\n');
    expect(seen).toEqual([{ clientId: '716335458', username: '425089', password: 'SnMH=' }]);
    expect(await m.at('AT+MQTTSTATE=3')).toBe(reply('+MQTTSTATE: 2'));
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('takes the port as optional (1883) and the credentials one by one', async () => {
    const m = await setup();
    const seen: { clientId: string; username?: string }[] = [];
    broker.setAuthenticator((r) => {
      seen.push({ clientId: r.clientId, username: r.username });
      return true;
    });
    expect(await m.at('AT+MQTTCFG="clean",0,1')).toBe(OK);
    expect(await m.at('AT+MQTTCONN=0,"broker.example.com"')).toBe(OK);
    await m.waitFor('+MQTTURC: "conn",0,0');
    expect(await m.at('AT+MQTTCONN=1,"h",1883,"only-id"')).toBe(OK);
    await m.waitFor('+MQTTURC: "conn",1,0');
    expect(await m.at('AT+MQTTCONN=2,"h",1883,"id2","user2"')).toBe(OK);
    await m.waitFor('+MQTTURC: "conn",2,0');
    expect(seen.map((s) => s.username)).toEqual([undefined, undefined, 'user2']);
    expect(seen[1]!.clientId).toBe('only-id');
  });

  it('refuses a second connect on a connected id (604) and while connecting (603)', async () => {
    const m = await setup();
    await connect(m);
    expect(await m.at('AT+MQTTCONN=0,"h"')).toBe(cme(604));
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const m2 = modem(silent.port);
    expect(await m2.at('AT+MQTTCONN=1,"h",1883,"c"')).toBe(OK);
    expect(await m2.at('AT+MQTTSTATE=1')).toBe(reply('+MQTTSTATE: 1'));
    expect(await m2.at('AT+MQTTCONN=1,"h",1883,"c"')).toBe(cme(603));
    expect(await m2.at('AT+MQTTSUB=1,"t",0')).toBe(cme(603));
    expect(await m2.at('AT+MQTTPUB=1,"t",0,0,0,1,"x"')).toBe(cme(603));
    // AT+MQTTDISC gives up the attempt.
    expect(await m2.at('AT+MQTTDISC=1')).toBe(OK);
    await m2.waitFor('\r\n+MQTTURC: "conn",1,2\r\n');
    expect(await m2.at('AT+MQTTSTATE=1')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('reports "conn",<id>,3 when the broker refuses the password, and connects with the right one', async () => {
    const m = await setup();
    broker.setAuthenticator(({ password }) => (password?.toString() === 'right' ? true : 5));
    expect(await m.at('AT+MQTTCONN=0,"h",1883,"dev","user","wrong"')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,3\r\n');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    expect(await m.at('AT+MQTTCONN=0,"h",1883,"dev","user","right"')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,0\r\n');
  });

  it('reports "conn",<id>,6 when nothing listens at the broker address', async () => {
    const m = modem(await freePort());
    expect(await m.at('AT+MQTTCONN=0,"h"')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,6\r\n');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('reports "conn",<id>,4 when the server hangs up on CONNECT', async () => {
    const f = await fake({ closeOnConnect: true });
    const m = modem(f.port);
    expect(await m.at('AT+MQTTCONN=0,"h",1883,"c"')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,4\r\n');
  });

  it('reports "conn",<id>,255 when SSL is on and no TLS broker is there', async () => {
    const m = await setup();
    await m.at('AT+MQTTCFG="ssl",0,1');
    expect(await m.at('AT+MQTTCONN=0,"h",8883,"c"')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,255\r\n');
  });

  it('answers 605 without a data network, and 601 for bad arguments', async () => {
    const m = await setup();
    await m.at('AT+CFUN=0');
    expect(await m.at('AT+MQTTCONN=0,"h"')).toBe(cme(605));
    await m.at('AT+CFUN=1');
    for (const line of [
      'AT+MQTTCONN=6,"h"',
      'AT+MQTTCONN=0',
      'AT+MQTTCONN=0,""',
      'AT+MQTTCONN=0,"h",65536',
      'AT+MQTTCONN=0,"h","1883"',
      `AT+MQTTCONN=0,"${'h'.repeat(129)}"`,
      `AT+MQTTCONN=0,"h",1883,"${'c'.repeat(129)}"`,
      `AT+MQTTCONN=0,"h",1883,"c","${'u'.repeat(129)}"`,
      `AT+MQTTCONN=0,"h",1883,"c","u","${'p'.repeat(257)}"`,
      'AT+MQTTCONN=0,"h",1883,"c","u","p",1',
    ]) {
      expect(await m.at(line), line).toBe(cme(601));
    }
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at(`AT+MQTTCONN=0,"${'h'.repeat(128)}",1883,"${'c'.repeat(128)}","${'u'.repeat(128)}","${'p'.repeat(256)}"`)).toBe(OK);
  });

  it('sends the configured will, keep-alive, clean flag and protocol level in CONNECT', async () => {
    const f = await fake();
    const m = modem(f.port);
    for (const line of [
      'AT+MQTTCFG="willoption",0,1,1,1',
      'AT+MQTTCFG="willpayload",0,"dev/status","offline"',
      'AT+MQTTCFG="keepalive",0,300',
      'AT+MQTTCFG="clean",0,1',
    ]) {
      expect(await m.at(line)).toBe(OK);
    }
    await connect(m, 0, 'will-dev');
    const c = f.received.find((p) => p.cmd === 'connect') as Extract<Packet, { cmd: 'connect' }>;
    expect(c.clientId).toBe('will-dev');
    expect(c.keepalive).toBe(300);
    expect(c.clean).toBe(true);
    expect(c.protocolVersion).toBe(4);
    expect(c.will).toMatchObject({ topic: 'dev/status', qos: 1, retain: true });
    expect(Buffer.from(c.will!.payload as Buffer).toString()).toBe('offline');
  });
});

describe('AT+MQTTSUB / AT+MQTTUNSUB', () => {
  it('returns the <mid> at once, then one code per topic, 128 for a refused one; lists what was granted', async () => {
    const m = await setup();
    broker.aedes.authorizeSubscribe = (_c, sub, cb) => cb(null, sub.topic.startsWith('deny/') ? null : sub);
    await connect(m);
    m.clear();
    expect(await m.at('AT+MQTTSUB=0,"a/1",1,"deny/x",2,"b/#",2')).toBe(reply('+MQTTSUB: 0,1'));
    await m.waitFor('\r\n+MQTTURC: "suback",0,1,1,128,2\r\n');
    expect(await m.at('AT+MQTTSUB=0')).toBe(reply('+MQTTSUB: "a/1",1,"b/#",2'));
    expect(await m.at('AT+MQTTUNSUB=0,"a/1"')).toBe(reply('+MQTTUNSUB: 0,2'));
    await m.waitFor('\r\n+MQTTURC: "unsuback",0,2\r\n');
    expect(await m.at('AT+MQTTSUB=0')).toBe(reply('+MQTTSUB: "b/#",2'));
    expect(await m.at('AT+MQTTUNSUB=0,"b/#","c","d"')).toBe(reply('+MQTTUNSUB: 0,3'));
    await m.waitFor('\r\n+MQTTURC: "unsuback",0,3\r\n');
    expect(await m.at('AT+MQTTSUB=0')).toBe(OK);
  });

  it('takes at most three topics of 1–256 bytes and QoS 0–2; anything else is 601', async () => {
    const m = await setup();
    await connect(m);
    for (const line of [
      'AT+MQTTSUB=0,"a",0,"b",0,"c",0,"d",0',
      'AT+MQTTSUB=0,"a",3',
      'AT+MQTTSUB=0,"a"',
      'AT+MQTTSUB=0,"",0',
      'AT+MQTTSUB=0,a,0',
      `AT+MQTTSUB=0,"${'t'.repeat(257)}",0`,
      'AT+MQTTSUB=6,"a",0',
      'AT+MQTTSUB=',
      'AT+MQTTUNSUB=0',
      'AT+MQTTUNSUB=0,"a","b","c","d"',
      'AT+MQTTUNSUB=0,""',
      `AT+MQTTUNSUB=0,"${'t'.repeat(257)}"`,
      'AT+MQTTUNSUB=0,1',
    ]) {
      expect(await m.at(line), line).toBe(cme(601));
    }
    expect(await m.at(`AT+MQTTSUB=0,"${'t'.repeat(256)}",0,"b",1,"c",2`)).toBe(reply('+MQTTSUB: 0,1'));
    await m.waitFor('"suback",0,1,0,1,2');
    expect(await m.at('AT')).toBe(OK);
  });

  it('answers 602 when the client is not connected', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTSUB=0,"t",0')).toBe(cme(602));
    expect(await m.at('AT+MQTTSUB=0')).toBe(cme(602));
    expect(await m.at('AT+MQTTUNSUB=0,"t"')).toBe(cme(602));
  });

  it('reports "timeout" after <retry_times> retransmissions of an unanswered SUBSCRIBE', async () => {
    const { m, f } = await virtual((p) => p.cmd === 'subscribe');
    await m.at('AT+MQTTCFG="retrans",0,20,1');
    await connect(m);
    m.clear();
    expect(await m.at('AT+MQTTSUB=0,"t",1')).toBe(reply('+MQTTSUB: 0,1'));
    // 20 s, then 40 s after the retransmission (the wait doubles).
    await m.waitFor('\r\n+MQTTURC: "timeout",0,1\r\n', 61_000);
    expect(f.received.filter((p) => p.cmd === 'subscribe')).toHaveLength(2);
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
  });
});

describe('AT+MQTTPUB', () => {
  it('answers <mid> and the PUBLISH packet length, then puback / pubrec+pubcomp per QoS', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    m.clear();
    expect(await m.at('AT+MQTTPUB=0,"world",0,0,0,4,"3242"')).toBe(reply('+MQTTPUB: 0,1,13'));
    expect(await m.at('AT+MQTTPUB=0,"world",1,0,0,4,"3242"')).toBe(reply('+MQTTPUB: 0,2,15'));
    await m.waitFor('\r\n+MQTTURC: "puback",0,2,0\r\n');
    expect(await m.at('AT+MQTTPUB=0,"world",2,1,0,4,"3242"')).toBe(reply('+MQTTPUB: 0,3,15'));
    await m.waitFor('\r\n+MQTTURC: "pubrec",0,3,0\r\n\r\n+MQTTURC: "pubcomp",0,3,0\r\n');
    await until(() => seen.length === 3, 'three publishes');
    expect(seen.map((p) => [p.topic, p.payload.toString(), p.qos, p.retain, p.messageId])).toEqual([
      ['world', '3242', 0, false, 0],
      ['world', '3242', 1, false, 2],
      ['world', '3242', 2, true, 3],
    ]);
  });

  it('counts the packet length with a two-byte remaining length for long messages', async () => {
    const m = await setup();
    await connect(m);
    const msg = 'x'.repeat(200);
    // 2 + 5 + 2 + 200 = 209 remaining → 1 + 2 + 209.
    expect(await m.at(`AT+MQTTPUB=0,"world",1,0,0,200,"${msg}"`)).toBe(reply('+MQTTPUB: 0,1,212'));
  });

  it('takes <msg_len> 0 as "send what was given", and refuses a <msg_len> that does not match', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"hello, world"')).toBe(reply('+MQTTPUB: 0,1,17'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,5,"hello, world"')).toBe(cme(601));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,13,"hello, world"')).toBe(cme(601));
    await until(() => seen.length === 1, 'the publish');
    expect(seen[0]!.payload.toString()).toBe('hello, world');
  });

  it('converts hex input, counting <msg_len> after conversion, quoted or not', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    await m.at('AT+MQTTCFG="encoding",0,1');
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,3,"00ff1A"')).toBe(reply('+MQTTPUB: 0,1,8'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,2,3242')).toBe(reply('+MQTTPUB: 0,2,7'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"48656C6C6F"')).toBe(reply('+MQTTPUB: 0,3,10'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,6,"00ff1A"')).toBe(cme(601));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"0G"')).toBe(cme(601));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"123"')).toBe(cme(601));
    await until(() => seen.length === 3, 'three publishes');
    expect(seen.map((p) => p.payload)).toEqual([Buffer.from([0, 0xff, 0x1a]), Buffer.from('2B'), Buffer.from('Hello')]);
  });

  it('unescapes escaped input, counting <msg_len> as typed', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    await m.at('AT+MQTTCFG="encoding",0,2');
    // Typed: a \" b , \r \n \x00 \\  → 15 bytes as typed, 8 sent.
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,15,"a\\"b,\\r\\n\\x00\\\\"')).toBe(reply('+MQTTPUB: 0,1,13'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,8,"a\\"b,\\r\\n\\x00\\\\"')).toBe(cme(601));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"bad\\q"')).toBe(cme(601));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,0,"bad\\x4"')).toBe(cme(601));
    await until(() => seen.length === 1, 'the publish');
    expect(seen[0]!.payload).toEqual(Buffer.from('a"b,\r\n\x00\\', 'latin1'));
  });

  it('enters data mode without <message>: exactly <msg_len> bytes, no CR/LF, binary-safe', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    expect(await m.at('AT+MQTTPUB=0,"bin",1,0,0,5')).toBe('\r\n> ');
    // The bytes after the message are the next command.
    m.send(Buffer.concat([Buffer.from([0x00, 0x0d, 0x0a, 0x1a, 0xff]), Buffer.from('AT\r')]));
    await m.waitFor('\r\n> \r\n+MQTTPUB: 0,1,14\r\n\r\nOK\r\n\r\nOK\r\n');
    await m.waitFor('"puback",0,1,0');
    await m.at('AT+MQTTCFG="encoding",0,1');
    expect(await m.at('AT+MQTTPUB=0,"bin",0,0,0,2')).toBe('\r\n> ');
    m.send('CAFE');
    await m.waitFor('+MQTTPUB: 0,2,9');
    await until(() => seen.length === 2, 'two publishes');
    expect(seen.map((p) => p.payload)).toEqual([Buffer.from([0x00, 0x0d, 0x0a, 0x1a, 0xff]), Buffer.from([0xca, 0xfe])]);
  });

  it('ends data-mode input with Ctrl+Z when <msg_len> is 0; ESC cancels with 601', async () => {
    const m = await setup();
    const seen = published();
    await connect(m);
    expect(await m.at('AT+MQTTPUB=0,"z",0,0,0,0')).toBe('\r\n> ');
    m.send('line one\r\nline two\x1a');
    await m.waitFor('+MQTTPUB: 0,1,23');
    expect(await m.at('AT+MQTTPUB=0,"z",0,0,0,0')).toBe('\r\n> ');
    m.send('never\x1b');
    await m.waitFor(cme(601));
    expect(await m.at('AT')).toBe(OK);
    await until(() => seen.length === 1, 'the publish');
    expect(seen[0]!.payload.toString()).toBe('line one\r\nline two');
  });

  it('sends what arrived when data-mode input stops for the idle time; nothing at all is 601', async () => {
    broker = await startEmbeddedBroker({ port: 0 });
    const b = broker;
    cleanups.push(() => b.close());
    const seen = published();
    const m = modemWith(b.port, { dataIdleTimeoutMs: 150 });
    await connect(m);
    expect(await m.at('AT+MQTTPUB=0,"slow",0,0,0,10')).toBe('\r\n> ');
    m.send('abc');
    await m.waitFor('+MQTTPUB: 0,1,11');
    expect(await m.at('AT+MQTTPUB=0,"slow",0,0,0,10')).toBe('\r\n> ');
    await m.waitFor(cme(601));
    await until(() => seen.length === 1, 'the publish');
    expect(seen[0]!.payload.toString()).toBe('abc');
  });

  it('refuses bad arguments with 601 and a publish without connection with 602', async () => {
    const m = await setup();
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,1,"x"')).toBe(cme(602));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,1')).toBe(cme(602));
    await connect(m);
    for (const line of [
      'AT+MQTTPUB=0,"t",3,0,0,1,"x"',
      'AT+MQTTPUB=0,"t",0,2,0,1,"x"',
      'AT+MQTTPUB=0,"t",0,0,2,1,"x"',
      'AT+MQTTPUB=0,"t",0,0,0,1025',
      'AT+MQTTPUB=0,"t",0,0,0,-1,"x"',
      'AT+MQTTPUB=0,"",0,0,0,1,"x"',
      `AT+MQTTPUB=0,"${'t'.repeat(257)}",0,0,0,1,"x"`,
      `AT+MQTTPUB=0,"t",0,0,0,0,"${'m'.repeat(1025)}"`,
      'AT+MQTTPUB=0,"t",0,0,0',
      'AT+MQTTPUB=0,"t",0,0,0,1,"x",1',
      'AT+MQTTPUB=6,"t",0,0,0,1,"x"',
    ]) {
      expect(await m.at(line), line).toBe(cme(601));
    }
    expect(await m.at(`AT+MQTTPUB=0,"${'t'.repeat(256)}",0,0,0,1024,"${'m'.repeat(1024)}"`)).toBe(reply('+MQTTPUB: 0,1,1285'));
    expect(await m.at('AT')).toBe(OK);
  });

  it('retransmits with DUP set, then reports "timeout" and keeps the connection', async () => {
    const { m, f } = await virtual((p) => p.cmd === 'publish');
    await m.at('AT+MQTTCFG="retrans",0,20,2');
    await connect(m);
    m.clear();
    expect(await m.at('AT+MQTTPUB=0,"t",1,0,0,1,"x"')).toBe(reply('+MQTTPUB: 0,1,8'));
    // 20 + 40 + 80 s.
    await m.waitFor('\r\n+MQTTURC: "timeout",0,1\r\n', 141_000);
    const pubs = f.received.filter((p): p is Extract<Packet, { cmd: 'publish' }> => p.cmd === 'publish');
    expect(pubs.map((p) => [p.messageId, p.dup])).toEqual([
      [1, false],
      [1, true],
      [1, true],
    ]);
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
  });

  it('reports <dup> 1 when the acknowledged PUBLISH was a retransmission or marked as a resend', async () => {
    let dropped = false;
    const { m } = await virtual((p) => {
      if (p.cmd !== 'publish' || p.qos !== 1 || dropped) return false;
      dropped = true; // lose the first transmission only
      return true;
    });
    await m.at('AT+MQTTCFG="retrans",0,20,3');
    await connect(m);
    await m.at('AT+MQTTPUB=0,"t",1,0,0,1,"x"');
    await m.waitFor('\r\n+MQTTURC: "puback",0,1,1\r\n', 21_000);
    await m.at('AT+MQTTPUB=0,"t",1,0,1,1,"x"');
    await m.waitFor('\r\n+MQTTURC: "puback",0,2,1\r\n');
    await m.at('AT+MQTTPUB=0,"t",2,0,0,1,"x"');
    await m.waitFor('\r\n+MQTTURC: "pubrec",0,3,0\r\n\r\n+MQTTURC: "pubcomp",0,3,0\r\n');
  });
});

describe('receiving', () => {
  it('prints "publish" URCs with the raw payload, or hex with output format 1', async () => {
    const m = await setup();
    await connect(m);
    await subscribe(m, 'down/#', 0);
    m.clear();
    await cloudPublish('down/a', 'hi there');
    await m.waitFor('\r\n+MQTTURC: "publish",0,0,"down/a",8,8,hi there\r\n');
    await m.at('AT+MQTTCFG="encoding",0,0,1');
    m.clear();
    await cloudPublish('down/b', Buffer.from([0x00, 0x1a, 0xff]));
    await m.waitFor('\r\n+MQTTURC: "publish",0,0,"down/b",3,3,001AFF\r\n');
  });

  it('passes binary payloads through unchanged in raw output', async () => {
    const m = await setup();
    await connect(m);
    await subscribe(m, 'bin', 1);
    m.clear();
    const payload = Buffer.from([0x0d, 0x0a, 0x00, 0x22, 0x2c, 0xff]);
    await cloudPublish('bin', payload, 1);
    await until(() => m.port.host.received.includes(payload), 'the payload');
    const out = m.port.host.received;
    const head = Buffer.from('\r\n+MQTTURC: "publish",0,');
    expect(out.subarray(0, head.length)).toEqual(head);
    expect(out.subarray(out.length - payload.length - 2)).toEqual(Buffer.concat([payload, Buffer.from('\r\n')]));
  });

  it('splits a message whose topic and payload exceed 512 bytes into several URCs (§3.9 note)', async () => {
    const m = await setup();
    await connect(m);
    await subscribe(m, 't/long', 0);
    m.clear();
    const payload = Buffer.alloc(1200, 'a');
    await cloudPublish('t/long', payload);
    await m.waitFor(',188,');
    // 512 − 6 topic bytes = 506 payload bytes per URC.
    expect(m.output()).toBe(
      [506, 506, 188].map((n) => urc(`+MQTTURC: "publish",0,0,"t/long",1200,${n},${'a'.repeat(n)}`)).join(''),
    );
    await m.at('AT+MQTTCFG="encoding",0,0,1');
    m.clear();
    await cloudPublish('t/long', Buffer.alloc(600, 0xab));
    await m.waitFor(',94,');
    // Hex prints two characters a byte: 253 bytes per URC.
    expect(m.output()).toBe(
      [253, 253, 94].map((n) => urc(`+MQTTURC: "publish",0,0,"t/long",600,${n},${'AB'.repeat(n)}`)).join(''),
    );
  });

  it('delivers retained messages on subscribe', async () => {
    const m = await setup();
    await cloudPublish('cfg/x', 'kept', 1, true);
    await connect(m);
    m.clear();
    await m.at('AT+MQTTSUB=0,"cfg/#",1');
    await m.waitFor(/\+MQTTURC: "publish",0,\d+,"cfg\/x",4,4,kept\r\n/);
  });

  it('caches messages in cached mode: "pubnmi", then AT+MQTTREAD counts and reads them oldest first', async () => {
    const m = await setup();
    await m.at('AT+MQTTCFG="cached",0,1');
    await connect(m);
    await subscribe(m, 'c/#', 0);
    m.clear();
    await cloudPublish('c/1', 'one');
    await cloudPublish('c/2', 'second');
    await cloudPublish('c/3', 'x');
    await m.waitFor('"pubnmi",0,0,1\r\n');
    expect(m.output()).toBe(urc('+MQTTURC: "pubnmi",0,0,3') + urc('+MQTTURC: "pubnmi",0,0,6') + urc('+MQTTURC: "pubnmi",0,0,1'));
    expect(await m.at('AT+MQTTREAD=0')).toBe(reply('+MQTTREAD: 0,3,10'));
    expect(await m.at('AT+MQTTREAD=0,4')).toBe(cme(601));
    expect(await m.at('AT+MQTTREAD=0,0')).toBe(cme(601));
    expect(await m.at('AT+MQTTREAD=0,2')).toBe(reply('+MQTTREAD: 0,0,"c/1",3,one', '+MQTTREAD: 0,0,"c/2",6,second'));
    expect(await m.at('AT+MQTTREAD=0')).toBe(reply('+MQTTREAD: 0,1,1'));
    // The cache outlives the connection.
    await m.at('AT+MQTTDISC=0');
    await m.waitFor('"conn",0,2');
    expect(await m.at('AT+MQTTREAD=0,1')).toBe(reply('+MQTTREAD: 0,0,"c/3",1,x'));
    expect(await m.at('AT+MQTTREAD=0')).toBe(reply('+MQTTREAD: 0,0,0'));
    expect(await m.at('AT+MQTTREAD=0,1')).toBe(cme(601));
    expect(await m.at('AT+MQTTREAD=6')).toBe(cme(601));
  });

  it('drops a message that does not fit the 8 KB cache and reports its length', async () => {
    const m = await setup();
    await m.at('AT+MQTTCFG="cached",0,1');
    await m.at('AT+MQTTCFG="encoding",0,0,1');
    await connect(m);
    await subscribe(m, 'big', 0);
    m.clear();
    for (let i = 0; i < 3; i++) await cloudPublish('big', Buffer.alloc(3000, i));
    await m.waitFor('\r\n+MQTTURC: "drop",0,3000\r\n');
    expect(await m.at('AT+MQTTREAD=0')).toBe(reply('+MQTTREAD: 0,2,6000'));
    const r = await m.at('AT+MQTTREAD=0,1');
    expect(r).toBe(reply(`+MQTTREAD: 0,0,"big",3000,${'00'.repeat(3000)}`));
    await cloudPublish('big', Buffer.alloc(5000, 7));
    await m.waitFor('\r\n+MQTTURC: "pubnmi",0,0,5000\r\n');
  });
});

describe('connection state URCs', () => {
  it('ends every connection with "conn",<id>,6 when the network goes (AT+CFUN=0), without reconnecting', async () => {
    const { m, clock } = await virtual();
    await connect(m, 0);
    await connect(m, 4);
    m.clear();
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",4,6\r\n');
    expect(m.output()).toContain('\r\n+MQTTURC: "conn",0,6\r\n');
    // Longer than three reconnection attempts at the default 20 s would take.
    await clock.advance(120_000);
    expect(m.output()).not.toContain('"conn",0,1');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('has the broker publish the will when the network goes, but not after AT+MQTTDISC', async () => {
    const m = await setup();
    const wills: string[] = [];
    broker.aedes.on('publish', (p) => {
      if (p.topic === 'dev/will') wills.push(p.payload.toString());
    });
    await m.at('AT+MQTTCFG="willoption",0,1,1,0');
    await m.at('AT+MQTTCFG="willpayload",0,"dev/will","gone"');
    await connect(m);
    await m.at('AT+MQTTDISC=0');
    await m.waitFor('"conn",0,2');
    await connect(m);
    await m.at('AT+CFUN=0');
    await until(() => wills.length > 0, 'the will');
    expect(wills).toEqual(['gone']);
  });

  it('reconnects after the broker drops the connection: "conn",<id>,1 then "conn",<id>,0', async () => {
    const { m, dropClients } = await virtual();
    await connect(m);
    m.clear();
    dropClients();
    await m.waitFor('\r\n+MQTTURC: "conn",0,1\r\n');
    // <reconn_interval> 20 s (default).
    await m.waitFor('\r\n+MQTTURC: "conn",0,0\r\n', 21_000);
    expect(m.output()).toBe(urc('+MQTTURC: "conn",0,1') + urc('+MQTTURC: "conn",0,0'));
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
    // Subscriptions of the persistent session (clean 0) are still there.
    await subscribe(m, 'keep', 1);
    m.clear();
    dropClients();
    await m.waitFor(/^\r\n\+MQTTURC: "conn",0,1\r\n\r\n\+MQTTURC: "conn",0,0\r\n$/, 21_000);
    await cloudPublish('keep', 'still here', 1);
    await m.waitFor('"keep",10,10,still here');
  });

  it('reports "conn",<id>,4 at once with "reconn" 0, and after the last attempt when the broker is gone', async () => {
    const { m, dropClients, goAway } = await virtual();
    await m.at('AT+MQTTCFG="reconn",0,0');
    await connect(m);
    m.clear();
    dropClients();
    await m.waitFor('\r\n+MQTTURC: "conn",0,4\r\n');
    expect(m.output()).toBe(urc('+MQTTURC: "conn",0,4'));

    await m.at('AT+MQTTCFG="reconn",0,2,20,1');
    await connect(m);
    m.clear();
    goAway();
    // Mode 1 waits 1 × 20 s, then 2 × 20 s.
    await m.waitFor('\r\n+MQTTURC: "conn",0,4\r\n', 61_000);
    expect(m.output()).toBe(urc('+MQTTURC: "conn",0,1') + urc('+MQTTURC: "conn",0,4'));
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('stops reconnecting on AT+MQTTDISC with "conn",<id>,2', async () => {
    const { m, goAway } = await virtual();
    await m.at('AT+MQTTCFG="reconn",0,3,60');
    await connect(m);
    m.clear();
    goAway();
    await m.waitFor('"conn",0,1');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 1'));
    expect(await m.at('AT+MQTTCFG="keepalive",0,60')).toBe(cme(603));
    expect(await m.at('AT+MQTTDISC=0')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,2\r\n');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    expect(await m.at('AT+MQTTDISC=0')).toBe(cme(602));
  });

  it('shows PINGRESP results with "pingresp" 1 only', async () => {
    const { m, f, clock } = await virtual();
    expect(await m.at('AT+MQTTCFG="pingreq",0,60')).toBe(OK);
    await connect(m);
    m.clear();
    // One PINGREQ after 60 s; had its PINGRESP not arrived, the link would end at 90 s.
    await clock.advance(100_000);
    expect(f.received.filter((p) => p.cmd === 'pingreq')).toHaveLength(1);
    expect(m.output()).toBe('');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
    expect(await m.at('AT+MQTTCFG="pingresp",0,1')).toBe(OK);
    m.clear();
    await m.waitFor('\r\n+MQTTURC: "pingresp",0,0\r\n', 61_000);
  });

  it('reports a missing PINGRESP as "pingresp",<id>,1 and "conn",<id>,5', async () => {
    const { m } = await virtual((p) => p.cmd === 'pingreq');
    for (const line of ['AT+MQTTCFG="pingreq",0,60', 'AT+MQTTCFG="pingresp",0,1', 'AT+MQTTCFG="reconn",0,0']) {
      expect(await m.at(line), line).toBe(OK);
    }
    await connect(m);
    m.clear();
    await m.waitFor('"conn",0,5\r\n', 200_000);
    expect(m.output()).toBe(urc('+MQTTURC: "pingresp",0,1') + urc('+MQTTURC: "conn",0,5'));
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
  });

  it('disconnects with OK then "conn",<id>,2; 602 when not connected', async () => {
    const m = await setup();
    expect(await m.at('AT+MQTTDISC=0')).toBe(cme(602));
    expect(await m.at('AT+MQTTDISC=6')).toBe(cme(601));
    expect(await m.at('AT+MQTTDISC=')).toBe(cme(601));
    await connect(m);
    m.clear();
    expect(await m.at('AT+MQTTDISC=0')).toBe(OK);
    await m.waitFor('\r\n+MQTTURC: "conn",0,2\r\n');
    expect(await m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    expect(await m.at('AT+MQTTSTATE=6')).toBe(cme(601));
  });

  it('keeps the <mid> counter per client across connections', async () => {
    const m = await setup();
    await connect(m, 0);
    await connect(m, 1);
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,1,"a"')).toBe(reply('+MQTTPUB: 0,1,6'));
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,1,"a"')).toBe(reply('+MQTTPUB: 0,2,6'));
    expect(await m.at('AT+MQTTPUB=1,"t",0,0,0,1,"a"')).toBe(reply('+MQTTPUB: 1,1,6'));
    await m.at('AT+MQTTDISC=0');
    await m.waitFor('"conn",0,2');
    await connect(m, 0);
    expect(await m.at('AT+MQTTPUB=0,"t",0,0,0,1,"a"')).toBe(reply('+MQTTPUB: 0,3,6'));
  });
});
