/**
 * The BC260Y-CN QMT set against a real embedded broker (and a scriptable fake one for lost
 * acknowledgements): result codes, URCs and CME errors for their real causes (manual §3.3.2–§3.3.8,
 * §4, §5). Identity and power-on behaviour of the profile too.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';
import { startFakeBroker, startSilentServer, type FakeBroker } from '../mqtt/fake-broker.js';

const OK = '\r\nOK\r\n';
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const PROMPT = '\r\n> ';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function embedded(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  closers.push(() => b.close());
  return b;
}

async function fakeBroker(opts: Parameters<typeof startFakeBroker>[0] = {}): Promise<FakeBroker> {
  const f = await startFakeBroker(opts);
  closers.push(() => f.close());
  return f;
}

/**
 * A BC260Y on a memory port, with AT+CMEE=1 so errors show their codes. A broker object is
 * reached in memory and the modem runs on a TestClock (its 30 s timeouts take no wall time); a
 * port number is reached over TCP in real time.
 */
async function bc260y(broker?: number | EmbeddedBroker | FakeBroker, cmee: 0 | 1 = 1): Promise<MemoryModem> {
  const opts =
    broker === undefined || typeof broker === 'number'
      ? { brokerPort: broker }
      : { broker: 'aedes' in broker ? broker.aedes : broker, clock: new TestClock() };
  const m = createMemoryModem('quectel-bc260y', opts);
  closers.push(() => m.stop());
  if (cmee) expect(await m.at('AT+CMEE=1')).toBe(OK);
  return m;
}

async function connected(m: MemoryModem, idx = 0, clientId = 'dev1'): Promise<void> {
  expect(await m.at(`AT+QMTOPEN=${idx},"iot.example.com",1883`)).toBe(OK);
  await m.waitFor(`+QMTOPEN: ${idx},0\r\n`);
  expect(await m.at(`AT+QMTCONN=${idx},"${clientId}"`)).toBe(OK);
  await m.waitFor(`+QMTCONN: ${idx},0,0\r\n`);
}

function cloudPublish(broker: EmbeddedBroker, topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, messageId: 0 } as never,
      (err?: Error) => (err ? reject(err) : resolve()),
    ),
  );
}

function published(broker: EmbeddedBroker): BrokerPublish[] {
  const seen: BrokerPublish[] = [];
  broker.onPublish((p) => seen.push(p));
  return seen;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('identity and power-on', () => {
  it('identifies as a Quectel BC260Y-CN, not an EC200', async () => {
    const m = await bc260y(undefined, 0);
    expect(await m.at('ATI')).toBe(reply('Quectel', 'BC260Y-CN', 'Revision: BC260YCNAAR02A03'));
    expect(await m.at('AT+CGMI')).toBe(reply('Quectel'));
    expect(await m.at('AT+CGMM')).toBe(reply('BC260Y-CN'));
    expect(await m.at('AT+CGMR')).toBe(reply('BC260YCNAAR02A03'));
  });

  it('starts with AT+CMEE 0 (plain ERROR) and knows the manual’s error texts for CMEE 2', async () => {
    const m = await bc260y(undefined, 0);
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 0'));
    expect(await m.at('AT+QMTSUB=0,1,"t",0')).toBe('\r\nERROR\r\n');
    await m.at('AT+CMEE=2');
    expect(await m.at('AT+QMTSUB=0,1,"t",0')).toBe('\r\n+CME ERROR: MQTT link error\r\n');
    const texts = loadProfile('quectel-bc260y').cmeErrors;
    expect(texts['8508']).toBe('The length of transmitted data exceeds that of remaining transmitted buffer');
    expect(texts['8600']).toBe('MQTT unknown error');
  });

  it('accepts the manual’s AT+QSCCLK spelling of AT+QSCLK (§6.1)', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QSCCLK=0')).toBe(OK);
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 0'));
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 1'));
  });

  it('has no AT+QMTPUBEX or AT+QMTRECV (EC200 commands)', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QMTPUBEX=?')).toBe('\r\nERROR\r\n');
    expect(await m.at('AT+QMTRECV=?')).toBe('\r\nERROR\r\n');
  });

  it('answers the test forms of §3.3.2–§3.3.8 with client range 0-4', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QMTOPEN=?')).toBe(reply('+QMTOPEN: (0-4),<host_name>,(1-65535)'));
    expect(await m.at('AT+QMTCLOSE=?')).toBe(reply('+QMTCLOSE: (0-4)'));
    expect(await m.at('AT+QMTCONN=?')).toBe(reply('+QMTCONN: (0-4),<clientID>,<username>,<password>'));
    expect(await m.at('AT+QMTDISC=?')).toBe(reply('+QMTDISC: (0-4)'));
    expect(await m.at('AT+QMTSUB=?')).toBe(reply('+QMTSUB: (0-4),(1-65535),<topic>,(0-2),<topic>,(0-2),...'));
    expect(await m.at('AT+QMTUNS=?')).toBe(reply('+QMTUNS: (0-4),(1-65535),<topic>,<topic>,...'));
    expect(await m.at('AT+QMTPUB=?')).toBe(reply('+QMTPUB: (0-4),(0-65535),(0-2),(0,1),<topic>,(0-1460),<msg>'));
  });
});

describe('AT+QMTOPEN / AT+QMTCLOSE', () => {
  it('reports -1 when nothing listens at the broker address', async () => {
    const m = await bc260y(await freePort());
    expect(await m.at('AT+QMTOPEN=0,"broker.example.com",1883')).toBe(OK);
    await m.waitFor('\r\n+QMTOPEN: 0,-1\r\n');
    expect(await m.at('AT+QMTOPEN?')).toBe(OK);
  });

  it('reports 2 for an index already in use and 3 with the radio off', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    expect(await m.at('AT+QMTOPEN=0,"other.host",1883')).toBe(OK);
    await m.waitFor('\r\n+QMTOPEN: 0,2\r\n');
    expect(await m.at('AT+QMTCONN?')).toBe(reply('+QMTCONN: 0,3'));
    await m.at('AT+CFUN=0');
    await m.at('AT+QMTOPEN=1,"h",1883');
    await m.waitFor('\r\n+QMTOPEN: 1,3\r\n');
  });

  it('reports result 1 (parameter error) for a host that is no host name', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    expect(await m.at('AT+QMTOPEN=0,"no such host",1883')).toBe(OK);
    await m.waitFor('\r\n+QMTOPEN: 0,1\r\n');
    expect(await m.at('AT+QMTOPEN=0,"",1883')).toBe(OK);
    await m.waitFor('\r\n+QMTOPEN: 0,1\r\n');
    expect(await m.at('AT+QMTOPEN?')).toBe(OK);
  });

  it('refuses a bad index, port or over-long host name with 8507', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QMTOPEN=5,"h",1883')).toBe(cme(8507));
    expect(await m.at('AT+QMTOPEN=0,"h",0')).toBe(cme(8507));
    expect(await m.at('AT+QMTOPEN=0,"h",65536')).toBe(cme(8507));
    expect(await m.at(`AT+QMTOPEN=0,"${'h'.repeat(101)}",1883`)).toBe(cme(8507));
    expect(await m.at('AT+QMTOPEN=0,h,1883')).toBe(cme(8507));
    expect(await m.at('AT')).toBe(OK);
  });

  it('closes an open network with 0 and answers -1 for an index with nothing open', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await m.at('AT+QMTOPEN=0,"h",1883');
    await m.waitFor('+QMTOPEN: 0,0');
    expect(await m.at('AT+QMTCLOSE=0')).toBe(OK);
    await m.waitFor('\r\n+QMTCLOSE: 0,0\r\n');
    expect(await m.at('AT+QMTOPEN?')).toBe(OK);
    m.clear();
    expect(await m.at('AT+QMTCLOSE=3')).toBe(OK);
    await m.waitFor('\r\n+QMTCLOSE: 3,-1\r\n');
    expect(await m.at('AT+QMTCLOSE=5')).toBe(cme(8507));
  });
});

describe('AT+QMTCONN / AT+QMTDISC', () => {
  it('reports the CONNACK return code of a refused login, then +QMTSTAT 1 as the broker closes', async () => {
    const broker = await embedded();
    broker.setAuthenticator(({ password }) => (password?.toString() === 'right' ? true : 4));
    const m = await bc260y(broker);
    await m.at('AT+QMTOPEN=0,"h",1883');
    await m.waitFor('+QMTOPEN: 0,0');
    expect(await m.at('AT+QMTCONN?')).toBe(reply('+QMTCONN: 0,1'));
    await m.at('AT+QMTCONN=0,"dev","user","wrong"');
    await m.waitFor('\r\n+QMTCONN: 0,0,4\r\n');
    await m.waitFor('\r\n+QMTSTAT: 0,1\r\n');
    await m.at('AT+QMTOPEN=0,"h",1883');
    await m.waitFor('+QMTOPEN: 0,0');
    await m.at('AT+QMTCONN=0,"dev","user","right"');
    await m.waitFor('\r\n+QMTCONN: 0,0,0\r\n');
    expect(await m.at('AT+QMTCONN?')).toBe(reply('+QMTCONN: 0,3'));
  });

  it('refuses CONNECT without an open network (8503) and bad strings (8507, 8506)', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QMTCONN=0,"c"')).toBe(cme(8503));
    expect(await m.at('AT+QMTCONN=0,""')).toBe(cme(8507));
    expect(await m.at('AT+QMTCONN=0,"\xff\xfe"')).toBe(cme(8506));
    expect(await m.at('AT+QMTCONN=5,"c"')).toBe(cme(8507));
    expect(await m.at('AT')).toBe(OK);
  });

  it('sends the password byte for byte (binary data) and UTF-8 client id and user name', async () => {
    const fake = await fakeBroker();
    const m = await bc260y(fake);
    await m.at('AT+QMTOPEN=1,"h",1883');
    await m.waitFor('+QMTOPEN: 1,0');
    expect(await m.at(`AT+QMTCONN=1,"${Buffer.from('设备1').toString('latin1')}","u","p\xff\x00"`)).toBe(OK);
    await m.waitFor('\r\n+QMTCONN: 1,0,0\r\n');
    const c = fake.received.find((p) => p.cmd === 'connect') as { clientId: string; username?: string; password?: Buffer };
    expect(c.clientId).toBe('设备1');
    expect(c.username).toBe('u');
    expect(Buffer.from(c.password!)).toEqual(Buffer.from([0x70, 0xff, 0x00]));
  });

  it('waits <pkttimeout> × (<retry_times> + 1) for CONNACK, then reports 2 and +QMTSTAT 4', async () => {
    const silent = await fakeBroker({ connack: null });
    const m = await bc260y(silent);
    await m.at('AT+QMTCFG="timeout",0,1,1');
    await m.at('AT+QMTOPEN=0,"h",1883');
    await m.waitFor('+QMTOPEN: 0,0');
    // Virtual time: the modem runs on a TestClock.
    const clock = m.modem.device.clock as TestClock;
    const started = clock.now();
    await m.at('AT+QMTCONN=0,"dev"');
    await clock.advance(1300);
    expect(m.output()).not.toContain('+QMTCONN: 0,');
    await m.waitFor('\r\n+QMTCONN: 0,2\r\n\r\n+QMTSTAT: 0,4\r\n', 5000);
    expect(clock.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it('disconnects with +QMTDISC: <id>,0 and answers -1 for an index with no connection', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    await m.at('AT+QMTDISC=0');
    await m.waitFor('\r\n+QMTDISC: 0,0\r\n');
    expect(await m.at('AT+QMTCONN?')).toBe(OK);
    expect(await m.at('AT+QMTOPEN?')).toBe(OK);
    m.clear();
    await m.at('AT+QMTDISC=2');
    await m.waitFor('\r\n+QMTDISC: 2,-1\r\n');
  });

  it('signs in to Aliyun with the aliauth device when username and password are left out', async () => {
    const broker = await embedded();
    const seen: { clientId: string; username?: string }[] = [];
    broker.setAuthenticator((r) => {
      seen.push({ clientId: r.clientId, username: r.username });
      return true;
    });
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="aliauth",0,"pk1","dev1","s3cret"');
    await connected(m, 0, 'cid');
    expect(seen).toEqual([{ clientId: 'cid|securemode=3,signmethod=hmacsha1|', username: 'dev1&pk1' }]);
  });
});

describe('AT+QMTSUB / AT+QMTUNS', () => {
  it('lists the granted QoS of every topic, 128 for a refused one', async () => {
    const broker = await embedded();
    broker.aedes.authorizeSubscribe = (_c, sub, cb) => cb(null, sub.topic.startsWith('deny/') ? null : sub);
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    expect(await m.at('AT+QMTSUB=0,7,"a/1",1,"deny/x",2,"b/#",2')).toBe(OK);
    await m.waitFor('\r\n+QMTSUB: 0,7,0,1,128,2\r\n');
    expect(await m.at('AT+QMTUNS=0,8,"a/1","b/#"')).toBe(OK);
    await m.waitFor('\r\n+QMTUNS: 0,8,0\r\n');
  });

  it('refuses bad requests with the documented codes and keeps working', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    expect(await m.at('AT+QMTSUB=0,1,"t",0')).toBe(cme(8503));
    expect(await m.at('AT+QMTUNS=0,1,"t"')).toBe(cme(8503));
    await connected(m);
    expect(await m.at('AT+QMTSUB=0,0,"t",0')).toBe(cme(8507)); // <msgID> 1–65535
    expect(await m.at('AT+QMTSUB=0,65536,"t",0')).toBe(cme(8507));
    expect(await m.at('AT+QMTSUB=0,1,"t",3')).toBe(cme(8507));
    expect(await m.at('AT+QMTSUB=0,1,"t"')).toBe(cme(8507));
    expect(await m.at('AT+QMTSUB=0,1,"",0')).toBe(cme(8507));
    expect(await m.at(`AT+QMTSUB=0,1,"${'t'.repeat(257)}",0`)).toBe(cme(8507));
    expect(await m.at('AT+QMTSUB=0,1,"a/#/b",0')).toBe(cme(8505));
    expect(await m.at('AT+QMTSUB=0,1,"a+/b",0')).toBe(cme(8505));
    expect(await m.at('AT+QMTSUB=0,1,"a/\xff",0')).toBe(cme(8506));
    expect(await m.at('AT+QMTSUB=0,1,"a",0,"b",0,"c",0,"d",0,"e",0,"f",0')).toBe(cme(8507));
    expect(await m.at('AT+QMTUNS=0,0,"t"')).toBe(cme(8507));
    expect(await m.at('AT')).toBe(OK);
    m.clear();
    expect(await m.at(`AT+QMTSUB=0,1,"${'t'.repeat(256)}",0`)).toBe(OK);
    await m.waitFor('+QMTSUB: 0,1,0,0');
  });

  it('reports retransmissions (timeout_notice): SUB with its count, UNS without (§3.3.7 has no <value>)', async () => {
    const fake = await fakeBroker({ onPacket: (p) => p.cmd === 'subscribe' || p.cmd === 'unsubscribe' });
    const m = await bc260y(fake);
    await m.at('AT+QMTCFG="timeout",0,1,1,1');
    await connected(m);
    m.clear();
    await m.at('AT+QMTUNS=0,2,"t"');
    await m.waitFor('\r\n+QMTSTAT: 0,6\r\n', 10_000);
    expect(m.output()).toBe('\r\nOK\r\n\r\n+QMTUNS: 0,2,1\r\n\r\n+QMTUNS: 0,2,2\r\n\r\n+QMTSTAT: 0,6\r\n');
    await connected(m);
    m.clear();
    await m.at('AT+QMTSUB=0,3,"t",1');
    await m.waitFor('\r\n+QMTSTAT: 0,6\r\n', 10_000);
    expect(m.output()).toBe('\r\nOK\r\n\r\n+QMTSUB: 0,3,1,1\r\n\r\n+QMTSUB: 0,3,2\r\n\r\n+QMTSTAT: 0,6\r\n');
  });
});

describe('receiving (+QMTRECV, §5.2)', () => {
  it('shows <payload_len> per showrecvlen and hex per dataformat <recv_format>, switchable while connected', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    await m.at('AT+QMTSUB=0,1,"down/#",1');
    await m.waitFor('+QMTSUB: 0,1,0,1');
    m.clear();
    await cloudPublish(broker, 'down/a', 'hi');
    await m.waitFor('\r\n+QMTRECV: 0,0,"down/a","hi"\r\n');
    await m.at('AT+QMTCFG="showrecvlen",0,1');
    await m.at('AT+QMTCFG="dataformat",0,0,1');
    m.clear();
    await cloudPublish(broker, 'down/b', Buffer.from([0x00, 0x1a, 0xff]));
    await m.waitFor('\r\n+QMTRECV: 0,0,"down/b",3,"001AFF"\r\n');
    m.clear();
    await cloudPublish(broker, 'down/c', 'q1', 1);
    await m.waitFor(/\r\n\+QMTRECV: 0,[1-9]\d*,"down\/c",2,"7131"\r\n/);
  });
});

describe('AT+QMTPUB', () => {
  it('publishes in data mode until Ctrl+Z, echoing the input (echomode 1 at power-on)', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/a"')).toBe(PROMPT);
    m.send('hello\x1a');
    await m.waitFor('\r\n+QMTPUB: 0,0,0\r\n');
    expect(m.output()).toBe(`${PROMPT}hello\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n`);
    expect(seen.map((p) => [p.topic, p.payload.toString(), p.qos])).toEqual([['up/a', 'hello', 0]]);
  });

  it('does not echo data-mode input with echomode 0', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="echomode",0,0');
    await connected(m);
    m.clear();
    await m.at('AT+QMTPUB=0,0,0,0,"up/a"');
    m.send('quiet\x1a');
    await m.waitFor('+QMTPUB: 0,0,0\r\n');
    expect(m.output()).toBe(`${PROMPT}\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n`);
  });

  it('publishes QoS 1 and 2 with the chosen msgid, fixed-length input and retain', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="echomode",0,0');
    await connected(m);
    expect(await m.at('AT+QMTPUB=0,321,1,0,"up/1",5')).toBe(PROMPT);
    m.send('a\x1ab\x1bc'); // Ctrl+Z and ESC are data in the fixed-length form
    await m.waitFor('\r\n+QMTPUB: 0,321,0\r\n');
    expect(await m.at('AT+QMTPUB=0,65535,2,1,"up/2",3')).toBe(PROMPT);
    m.send('abc');
    await m.waitFor('\r\n+QMTPUB: 0,65535,0\r\n');
    expect(seen.map((p) => ({ topic: p.topic, payload: p.payload.toString('latin1'), qos: p.qos, retain: p.retain, id: p.messageId }))).toEqual([
      { topic: 'up/1', payload: 'a\x1ab\x1bc', qos: 1, retain: false, id: 321 },
      { topic: 'up/2', payload: 'abc', qos: 2, retain: true, id: 65535 },
    ]);
  });

  it('publishes the one-line form without data mode, and a zero-length message', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    expect(await m.at('AT+QMTPUB=0,1,1,0,"up/line",11,"hello world"')).toBe(OK);
    await m.waitFor('\r\n+QMTPUB: 0,1,0\r\n');
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/bare",5,hello')).toBe(OK);
    await m.waitFor('\r\n+QMTPUB: 0,0,0\r\n');
    // <msglen> 0: the prompt, then at once OK (nothing to read).
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/empty",0')).toBe(PROMPT);
    await m.waitFor(`${PROMPT}\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n`);
    expect(seen.map((p) => [p.topic, p.payload.toString()])).toEqual([
      ['up/line', 'hello world'],
      ['up/bare', 'hello'],
      ['up/empty', ''],
    ]);
  });

  it('takes a 1460-byte message on one line with a 256-byte topic (the longest one-line form)', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await connected(m);
    const topic = 't'.repeat(256);
    const msg = 'm'.repeat(1460);
    expect(await m.at(`AT+QMTPUB=4,65535,2,1,"${topic}",1460,"${msg}"`)).toBe(cme(8503)); // index 4 not connected
    expect(await m.at(`AT+QMTPUB=0,65535,2,1,"${topic}",1460,"${msg}"`)).toBe(OK);
    await m.waitFor('\r\n+QMTPUB: 0,65535,0\r\n');
    expect(seen.map((p) => [p.topic.length, p.payload.length, p.qos, p.retain])).toEqual([[256, 1460, 2, true]]);
  });

  it('cancels with ESC: OK, nothing published, no +QMTPUB', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    await m.at('AT+QMTPUB=0,0,0,0,"up/x"');
    m.send('never\x1b');
    await m.waitFor('never\r\nOK\r\n');
    await sleep(100);
    expect(m.output()).not.toContain('+QMTPUB:');
    expect(seen).toEqual([]);
    expect(await m.at('AT')).toBe(OK);
  });

  it('sends only the first 1460 bytes of longer data-mode input (§3.3.8 note 2)', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="echomode",0,0');
    await connected(m);
    await m.at('AT+QMTPUB=0,0,0,0,"up/big"');
    const data = Buffer.alloc(1500, 0x41);
    data.fill(0x42, 1460);
    m.send(Buffer.concat([data, Buffer.from([0x1a])]));
    await m.waitFor('+QMTPUB: 0,0,0\r\n');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.payload.equals(Buffer.alloc(1460, 0x41))).toBe(true);
  });

  it('decodes hex input with dataformat <send_format> 1 and refuses what is not hex (8505)', async () => {
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="dataformat",0,1,0');
    await connected(m);
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/hex",6,"00FF1a"')).toBe(OK);
    await m.waitFor('+QMTPUB: 0,0,0');
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/hex",3,"0FG"')).toBe(cme(8505));
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up/hex"')).toBe(PROMPT);
    m.send('4142\x1a');
    await m.waitFor('\r\n+QMTPUB: 0,0,0\r\n');
    expect(seen.map((p) => p.payload)).toEqual([Buffer.from([0x00, 0xff, 0x1a]), Buffer.from('AB')]);
  });

  const invalid: [line: string, code: number, why: string][] = [
    ['AT+QMTPUB=0,1,0,0,"t"', 8507, '<msgid> other than 0 with QoS 0'],
    ['AT+QMTPUB=0,0,1,0,"t"', 8507, '<msgid> 0 with QoS 1'],
    ['AT+QMTPUB=0,65536,1,0,"t"', 8507, '<msgid> above 65535'],
    ['AT+QMTPUB=0,0,3,0,"t"', 8507, '<qos> above 2'],
    ['AT+QMTPUB=0,0,0,2,"t"', 8507, '<retain> not 0/1'],
    ['AT+QMTPUB=5,0,0,0,"t"', 8507, 'client index 5'],
    ['AT+QMTPUB=0,0,0,0,"t",1461', 8507, '<msglen> above 1460'],
    ['AT+QMTPUB=0,0,0,0,"t",4,"hello"', 8507, '<msg> longer than <msglen>'],
    ['AT+QMTPUB=0,0,0,0,"t",,"hello"', 8507, '<msg> without <msglen>'],
    ['AT+QMTPUB=0,0,0,0,""', 8507, 'an empty topic'],
    [`AT+QMTPUB=0,0,0,0,"${'t'.repeat(257)}"`, 8507, 'a topic over 256 bytes'],
    ['AT+QMTPUB=0,0,0,0,"a/+"', 8505, 'a wildcard in a topic name'],
    ['AT+QMTPUB=0,0,0,0,"a/#"', 8505, 'a wildcard in a topic name'],
    ['AT+QMTPUB=0,0,0,0,"a/\xc3"', 8506, 'a topic that is not UTF-8'],
  ];

  it.each(invalid)('%s → +CME ERROR: %i (%s), then AT works', async (line, code) => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    expect(await m.at(line)).toBe(cme(code));
    expect(await m.at('AT')).toBe(OK);
  });

  it('refuses to publish without a connection (8503)', async () => {
    const m = await bc260y();
    expect(await m.at('AT+QMTPUB=0,0,0,0,"t"')).toBe(cme(8503));
    expect(await m.at('AT+QMTPUB=0,0,0,0,"t",1,"x"')).toBe(cme(8503));
  });

  it('takes one message at a time: 8508 while a QoS 1 publish waits for its PUBACK (note 1)', async () => {
    const broker = await embedded();
    const held: (() => void)[] = [];
    broker.aedes.authorizePublish = (_client, _packet, cb) => {
      held.push(() => cb(null));
    };
    const m = await bc260y(broker);
    await m.at('AT+QMTCFG="echomode",0,0');
    await connected(m);
    expect(await m.at('AT+QMTPUB=0,1,1,0,"w",1,"x"')).toBe(OK);
    expect(await m.at('AT+QMTPUB=0,2,1,0,"w",1,"y"')).toBe(cme(8508));
    expect(await m.at('AT+QMTPUB=0,0,0,0,"w",1,"z"')).toBe(cme(8508));
    while (held.length === 0) await sleep(5);
    m.clear();
    held.shift()!();
    await m.waitFor('\r\n+QMTPUB: 0,1,0\r\n');
    expect(await m.at('AT+QMTPUB=0,2,1,0,"w",1,"y"')).toBe(OK);
    while (held.length === 0) await sleep(5);
    held.shift()!();
    await m.waitFor('\r\n+QMTPUB: 0,2,0\r\n');
  });

  it('reports retransmissions with their count, then failure and +QMTSTAT: 0,6', async () => {
    const fake = await fakeBroker({ onPacket: (p) => p.cmd === 'publish' });
    const m = await bc260y(fake);
    await m.at('AT+QMTCFG="timeout",0,1,2,1');
    await connected(m);
    m.clear();
    await m.at('AT+QMTPUB=0,9,1,0,"t",1,"z"');
    await m.waitFor('\r\n+QMTSTAT: 0,6\r\n', 10_000);
    expect(m.output()).toBe('\r\nOK\r\n\r\n+QMTPUB: 0,9,1,1\r\n\r\n+QMTPUB: 0,9,1,2\r\n\r\n+QMTPUB: 0,9,2\r\n\r\n+QMTSTAT: 0,6\r\n');
    const dups = fake.received.filter((p) => p.cmd === 'publish').map((p) => (p as { dup?: boolean }).dup ?? false);
    expect(dups).toEqual([false, true, true]);
  });

  it('leaves data mode after the data-mode timeout with 8600 and sends nothing', async () => {
    expect(loadProfile('quectel-bc260y').settings['quectel-qmt-bc260y']).toMatchObject({ dataIdleTimeoutMs: 60_000 });
    const broker = await embedded();
    const seen = published(broker);
    const m = await bc260y(broker);
    // The profile's 60 s (note 3), shortened for this modem only.
    (m.modem.profile.settings['quectel-qmt-bc260y'] as { dataIdleTimeoutMs: number }).dataIdleTimeoutMs = 300;
    await connected(m);
    m.clear();
    expect(await m.at('AT+QMTPUB=0,0,0,0,"t"')).toBe(PROMPT);
    m.send('partial');
    await m.waitFor(cme(8600), 3000);
    expect(await m.at('AT+QMTPUB=0,0,0,0,"t",10')).toBe(PROMPT);
    m.send('part');
    await m.waitFor(`${PROMPT}part${cme(8600)}`, 3000);
    expect(seen).toEqual([]);
    expect(await m.at('AT')).toBe(OK);
  });

  it('refuses input the connection lost while it was typed (8503)', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    await m.at('AT+QMTPUB=0,0,0,0,"t"');
    const clients = (broker.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;
    for (const c of Object.values(clients)) c.close();
    await sleep(100);
    m.send('late\x1a');
    await m.waitFor(cme(8503));
    await m.waitFor('+QMTSTAT: 0,1\r\n');
  });
});

describe('link state (+QMTSTAT, §5.1)', () => {
  it('ends open links with +QMTSTAT: <id>,7 when the network goes (AT+CFUN=0)', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m, 0);
    await connected(m, 4, 'dev4');
    m.clear();
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    await m.waitFor('\r\n+QMTSTAT: 4,7\r\n');
    expect(m.output()).toContain('\r\n+QMTSTAT: 0,7\r\n');
    expect(await m.at('AT+QMTCONN?')).toBe(OK);
  });

  it('reports +QMTSTAT: 0,1 when the broker closes the connection', async () => {
    const broker = await embedded();
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    const clients = (broker.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;
    for (const c of Object.values(clients)) c.close();
    await m.waitFor('\r\n+QMTSTAT: 0,1\r\n');
    expect(await m.at('AT')).toBe(OK);
  });

  it('reports a keepalive timeout as +QMTSTAT: 0,2 with no +QMTPING (the EC200’s URC)', async () => {
    const fake = await fakeBroker({ answerPings: false });
    const m = await bc260y(fake);
    await m.at('AT+QMTCFG="keepalive",0,1');
    await connected(m);
    m.clear();
    await m.waitFor('\r\n+QMTSTAT: 0,2\r\n', 10_000);
    expect(m.output()).toBe('\r\n+QMTSTAT: 0,2\r\n');
  });
});

describe('a silent server', () => {
  it('keeps QMTOPEN working when a server accepts but never speaks', async () => {
    const s = await startSilentServer();
    closers.push(() => s.close());
    const m = await bc260y(s.port);
    await m.at('AT+QMTOPEN=0,"h",1883');
    await m.waitFor('\r\n+QMTOPEN: 0,0\r\n');
    expect(await m.at('AT+QMTOPEN?')).toBe(reply('+QMTOPEN: 0,"h",1883'));
  });
});

describe('requests that reuse a msgID still in flight', () => {
  it('refuses a pipelined second AT+QMTSUB/AT+QMTUNS with the same msgID with 8507 and carries on', async () => {
    const broker = await embedded();
    const held: (() => void)[] = [];
    broker.aedes.authorizeSubscribe = (_c, sub, cb) => held.push(() => cb(null, sub));
    const m = await bc260y(broker);
    await connected(m);
    m.clear();
    m.send('AT+QMTSUB=0,1,"a",1\rAT+QMTSUB=0,1,"b",1\rAT+QMTUNS=0,1,"a"\r');
    await m.waitFor(`${OK}${cme(8507)}${cme(8507)}`);
    for (const release of held.splice(0)) release();
    await m.waitFor('\r\n+QMTSUB: 0,1,0,1\r\n');
    expect(await m.at('AT')).toBe(OK);
  });
});
