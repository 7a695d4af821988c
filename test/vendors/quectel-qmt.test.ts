/**
 * The EC200 QMT set against a real embedded broker: result codes and URCs for their real causes
 * (manual §3.3.2–§3.3.9, §4).
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

let broker: EmbeddedBroker | undefined;
let m: MemoryModem | undefined;

afterEach(async () => {
  await m?.stop();
  await broker?.close();
  m = undefined;
  broker = undefined;
});

async function setup(): Promise<MemoryModem> {
  broker = await startEmbeddedBroker({ port: 0 });
  // In memory, on a clock the test drives: timeouts and retransmissions take no wall time.
  m = createMemoryModem('quectel-ec200', { broker: broker.aedes, clock: new TestClock() });
  return m;
}

async function connected(modem: MemoryModem, idx = 0, clientId = 'dev1'): Promise<void> {
  expect(await modem.at(`AT+QMTOPEN=${idx},"iot.example.com",1883`)).toBe('\r\nOK\r\n');
  await modem.waitFor(`+QMTOPEN: ${idx},0\r\n`);
  expect(await modem.at(`AT+QMTCONN=${idx},"${clientId}"`)).toBe('\r\nOK\r\n');
  await modem.waitFor(`+QMTCONN: ${idx},0,0\r\n`);
}

function cloudPublish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0): Promise<void> {
  return new Promise((resolve, reject) =>
    broker!.aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, messageId: 0 } as never,
      (err?: Error) => (err ? reject(err) : resolve()),
    ),
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('AT+QMTOPEN', () => {
  it('reports -1 when nothing listens at the broker address', async () => {
    m = createMemoryModem('quectel-ec200', { brokerPort: await freePort() });
    expect(await m.at('AT+QMTOPEN=0,"broker.example.com",1883')).toBe('\r\nOK\r\n');
    await m.waitFor('\r\n+QMTOPEN: 0,-1\r\n');
    expect(await m.at('AT+QMTOPEN?')).toBe('\r\nOK\r\n');
  });

  it('reports 2 for a second open on a busy index and keeps the first', async () => {
    const modem = await setup();
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTOPEN=0,"other.host",1883')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTOPEN: 0,2\r\n');
    expect(await modem.at('AT+QMTCONN?')).toBe('\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n');
  });

  it('reports 3 (PDP activation failed) with the radio off', async () => {
    const modem = await setup();
    await modem.at('AT+CFUN=0');
    await modem.at('AT+QMTOPEN=1,"h",1883');
    await modem.waitFor('\r\n+QMTOPEN: 1,3\r\n');
  });

  it('sends the connection to the configured broker and reports the host as given', async () => {
    const modem = await setup();
    await modem.at('AT+QMTOPEN=2,"iot-as-mqtt.cn-shanghai.aliyuncs.com",8883');
    await modem.waitFor('+QMTOPEN: 2,0');
    expect(await modem.at('AT+QMTOPEN?')).toBe('\r\n+QMTOPEN: 2,"iot-as-mqtt.cn-shanghai.aliyuncs.com",8883\r\n\r\nOK\r\n');
    expect(await modem.at('AT+QMTCONN?')).toBe('\r\n+QMTCONN: 2,1\r\n\r\nOK\r\n');
  });
});

describe('AT+QMTCONN', () => {
  it('shows the CONNACK return code when the broker refuses the login, then the link closes', async () => {
    const modem = await setup();
    broker!.setAuthenticator(({ password }) => (password?.toString() === 'right' ? true : 5));
    await modem.at('AT+QMTOPEN=0,"h",1883');
    await modem.waitFor('+QMTOPEN: 0,0');
    await modem.at('AT+QMTCONN=0,"dev","user","wrong"');
    await modem.waitFor('\r\n+QMTCONN: 0,0,5\r\n');
    await modem.waitFor('\r\n+QMTSTAT: 0,1\r\n');
    modem.clear();
    await modem.at('AT+QMTOPEN=0,"h",1883');
    await modem.waitFor('+QMTOPEN: 0,0');
    await modem.at('AT+QMTCONN=0,"dev","user","right"');
    await modem.waitFor('\r\n+QMTCONN: 0,0,0\r\n');
  });

  it('signs in to Aliyun with the aliauth settings when username and password are omitted', async () => {
    const modem = await setup();
    const seen: { clientId: string; username?: string; password?: string }[] = [];
    broker!.setAuthenticator((r) => {
      seen.push({ clientId: r.clientId, username: r.username, password: r.password?.toString() });
      return true;
    });
    await modem.at('AT+QMTCFG="aliauth",0,"pk1","dev1","s3cret"');
    await connected(modem, 0, 'cid');
    const expected = createHmac('sha1', 's3cret').update('clientIdciddeviceNamedev1productKeypk1').digest('hex');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.clientId).toBe('cid|securemode=3,signmethod=hmacsha1|');
    expect(seen[0]!.username).toBe('dev1&pk1');
    expect(seen[0]!.password!.toLowerCase()).toBe(expected);
  });

  it('refuses CONNECT without an open network', async () => {
    m = createMemoryModem();
    expect(await m.at('AT+QMTCONN=0,"c"')).toBe('\r\nERROR\r\n');
  });
});

describe('AT+QMTSUB / AT+QMTUNS', () => {
  it('lists the granted QoS of every topic, 128 for a refused one', async () => {
    const modem = await setup();
    broker!.aedes.authorizeSubscribe = (_c, sub, cb) => cb(null, sub.topic.startsWith('deny/') ? null : sub);
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTSUB=0,7,"a/1",1,"deny/x",2,"b/#",2')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTSUB: 0,7,0,1,128,2\r\n');
    expect(await modem.at('AT+QMTUNS=0,8,"a/1","b/#"')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTUNS: 0,8,0\r\n');
  });

  it('answers ERROR when the client is not connected', async () => {
    m = createMemoryModem();
    expect(await m.at('AT+QMTSUB=0,1,"t",0')).toBe('\r\nERROR\r\n');
    expect(await m.at('AT+QMTUNS=0,1,"t"')).toBe('\r\nERROR\r\n');
  });
});

describe('receiving', () => {
  it('prints +QMTRECV without length by default, with it per recv/mode, hex per dataformat', async () => {
    const modem = await setup();
    await connected(modem);
    await modem.at('AT+QMTSUB=0,1,"down/#",1');
    await modem.waitFor('+QMTSUB: 0,1,0,1');
    modem.clear();
    await cloudPublish('down/a', 'hi');
    await modem.waitFor('\r\n+QMTRECV: 0,0,"down/a","hi"\r\n');
    await modem.at('AT+QMTDISC=0');
    await modem.waitFor('+QMTDISC: 0,0');
    await modem.at('AT+QMTCFG="recv/mode",0,0,1');
    await modem.at('AT+QMTCFG="dataformat",0,0,1');
    await connected(modem);
    await modem.at('AT+QMTSUB=0,1,"down/#",1');
    await modem.waitFor('+QMTSUB: 0,1,0,1');
    modem.clear();
    await cloudPublish('down/b', Buffer.from([0x00, 0x1a, 0xff]));
    await modem.waitFor('\r\n+QMTRECV: 0,0,"down/b",3,"001AFF"\r\n');
  });

  it('stores messages in five slots with recv/mode 1 and loses none when they are full', async () => {
    const modem = await setup();
    await modem.at('AT+QMTCFG="recv/mode",0,1,1');
    await connected(modem);
    await modem.at('AT+QMTSUB=0,1,"s/#",0');
    await modem.waitFor('+QMTSUB: 0,1,0,0');
    modem.clear();
    for (let i = 0; i < 6; i++) await cloudPublish(`s/${i}`, `m${i}`);
    await modem.waitFor('\r\n+QMTRECV: 0,4,2\r\n');
    expect(modem.output()).toBe(['0', '1', '2', '3', '4'].map((id) => `\r\n+QMTRECV: 0,${id},2\r\n`).join(''));
    expect(await modem.at('AT+QMTRECV?')).toBe('\r\n+QMTRECV: 0,1,1,1,1,1\r\n\r\nOK\r\n');
    expect(await modem.at('AT+QMTRECV=0,2')).toBe('\r\n+QMTRECV: 0,0,"s/2",2,"m2"\r\n\r\nOK\r\n');
    // The sixth message takes the freed slot.
    await modem.waitFor('\r\n+QMTRECV: 0,2,2\r\n');
    expect(await modem.at('AT+QMTRECV=0')).toBe(
      '\r\n' + ['s/0', 's/1', 's/5', 's/3', 's/4'].map((t) => `+QMTRECV: 0,0,"${t}",2,"m${t.slice(2)}"`).join('\r\n') + '\r\n\r\nOK\r\n',
    );
    expect(await modem.at('AT+QMTRECV?')).toBe('\r\n+QMTRECV: 0,0,0,0,0,0\r\n\r\nOK\r\n');
  });
});

describe('AT+QMTPUBEX', () => {
  it('publishes QoS 1 and 2 with the chosen msgid and reports the acknowledgement', async () => {
    const modem = await setup();
    const seen: { topic: string; payload: string; qos: number; messageId: number }[] = [];
    broker!.onPublish((p) => seen.push({ topic: p.topic, payload: p.payload.toString(), qos: p.qos, messageId: p.messageId }));
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTPUBEX=0,321,1,0,"up/1",5')).toBe('\r\n> ');
    modem.send('hello');
    await modem.waitFor('\r\n+QMTPUBEX: 0,321,0\r\n');
    expect(await modem.at('AT+QMTPUBEX=0,65535,2,1,"up/2",3')).toBe('\r\n> ');
    modem.send('abc');
    await modem.waitFor('\r\n+QMTPUBEX: 0,65535,0\r\n');
    expect(seen).toEqual([
      { topic: 'up/1', payload: 'hello', qos: 1, messageId: 321 },
      { topic: 'up/2', payload: 'abc', qos: 2, messageId: 65535 },
    ]);
  });

  it('decodes hex input with dataformat send mode 1', async () => {
    const modem = await setup();
    const seen: Buffer[] = [];
    broker!.onPublish((p) => seen.push(p.payload));
    await modem.at('AT+QMTCFG="dataformat",0,1,0');
    await connected(modem);
    expect(await modem.at('AT+QMTPUBEX=0,0,0,0,"up/hex",6')).toBe('\r\n> ');
    modem.send('00FF1a');
    await modem.waitFor('+QMTPUBEX: 0,0,0');
    expect(seen).toEqual([Buffer.from([0x00, 0xff, 0x1a])]);
  });

  it('keeps at most five messages in flight and refuses an id still in flight', async () => {
    const modem = await setup();
    // The broker holds every PUBACK back until released.
    const held: (() => void)[] = [];
    broker!.aedes.authorizePublish = (_client, _packet, cb) => {
      held.push(() => cb(null));
    };
    await modem.at('AT+QMTCFG="timeout",0,60,0,0');
    await connected(modem);
    for (let id = 1; id <= 5; id++) {
      expect(await modem.at(`AT+QMTPUBEX=0,${id},1,0,"w",1`)).toBe('\r\n> ');
      modem.send('x');
      await modem.waitFor(/\r\nOK\r\n$/);
    }
    expect(await modem.at('AT+QMTPUBEX=0,3,1,0,"w",1')).toBe('\r\nERROR\r\n');
    expect(await modem.at('AT+QMTPUBEX=0,6,1,0,"w",1')).toBe('\r\nERROR\r\n');
    modem.clear();
    while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
    held.shift()!();
    await modem.waitFor('\r\n+QMTPUBEX: 0,1,0\r\n');
    expect(await modem.at('AT+QMTPUBEX=0,6,1,0,"w",1')).toBe('\r\n> ');
    modem.send('x');
    await modem.waitFor(/\r\nOK\r\n$/);
    for (const release of held.splice(0)) release();
  });

  it('reports retransmissions with timeout_notice, then failure and +QMTSTAT: 0,6', async () => {
    const modem = await setup();
    broker!.aedes.authorizePublish = () => {}; // never acknowledged
    await modem.at('AT+QMTCFG="timeout",0,1,2,1');
    await connected(modem);
    modem.clear();
    await modem.at('AT+QMTPUBEX=0,9,1,0,"t",1');
    modem.send('z');
    await modem.waitFor('\r\n+QMTSTAT: 0,6\r\n', 10_000);
    expect(modem.output()).toBe(
      '\r\n> \r\nOK\r\n\r\n+QMTPUBEX: 0,9,1,1\r\n\r\n+QMTPUBEX: 0,9,1,2\r\n\r\n+QMTPUBEX: 0,9,2\r\n\r\n+QMTSTAT: 0,6\r\n',
    );
  });

  it('refuses a msgid other than 0 for QoS 0, and 0 for QoS 1', async () => {
    const modem = await setup();
    await connected(modem);
    expect(await modem.at('AT+QMTPUBEX=0,1,0,0,"t",1')).toBe('\r\nERROR\r\n');
    expect(await modem.at('AT+QMTPUBEX=0,0,1,0,"t",1')).toBe('\r\nERROR\r\n');
  });
});

describe('link state URCs', () => {
  it('ends open links with +QMTSTAT: <idx>,7 when the network goes (AT+CFUN=0)', async () => {
    const modem = await setup();
    await connected(modem, 0);
    await connected(modem, 3, 'dev3');
    modem.clear();
    expect(await modem.at('AT+CFUN=0')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTSTAT: 3,7\r\n');
    expect(modem.output()).toContain('\r\n+QMTSTAT: 0,7\r\n');
    expect(await modem.at('AT+QMTCONN?')).toBe('\r\nOK\r\n');
  });

  it('reports +QMTSTAT: 0,1 when the broker closes the connection', async () => {
    const modem = await setup();
    await connected(modem);
    modem.clear();
    const clients = (broker!.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;
    for (const c of Object.values(clients)) c.close();
    await modem.waitFor('\r\n+QMTSTAT: 0,1\r\n');
    expect(await modem.at('AT')).toBe('\r\nOK\r\n');
  });

  it('disconnects with +QMTDISC and closes with +QMTCLOSE', async () => {
    const modem = await setup();
    await connected(modem);
    await modem.at('AT+QMTDISC=0');
    await modem.waitFor('\r\n+QMTDISC: 0,0\r\n');
    expect(await modem.at('AT+QMTCONN?')).toBe('\r\nOK\r\n');
    await modem.at('AT+QMTOPEN=0,"h",1883');
    await modem.waitFor('+QMTOPEN: 0,0');
    await modem.at('AT+QMTCCLOSE=0');
    await modem.waitFor('\r\n+QMTCLOSE: 0,0\r\n');
    expect(await modem.at('AT+QMTOPEN?')).toBe('\r\nOK\r\n');
  });
});

describe('retained messages', () => {
  it('reports +QMTSUB before the retained message the subscription brings', async () => {
    const modem = await setup();
    await new Promise<void>((resolve, reject) =>
      broker!.aedes.publish(
        { cmd: 'publish', topic: 'cfg/led', payload: Buffer.from('on'), qos: 1, retain: true, dup: false, messageId: 0 } as never,
        (err?: Error) => (err ? reject(err) : resolve()),
      ),
    );
    await connected(modem);
    for (let round = 0; round < 5; round++) {
      modem.clear();
      await modem.at(`AT+QMTSUB=0,${round + 1},"cfg/#",1`);
      await modem.waitFor(/\+QMTRECV: 0,\d+,"cfg\/led","on"\r\n/);
      const out = modem.output();
      expect(out.indexOf(`+QMTSUB: 0,${round + 1},0,1`)).toBeGreaterThan(-1);
      expect(out.indexOf(`+QMTSUB: 0,${round + 1},0,1`)).toBeLessThan(out.indexOf('+QMTRECV:'));
      await modem.at(`AT+QMTUNS=0,${round + 100},"cfg/#"`);
      await modem.waitFor(`+QMTUNS: 0,${round + 100},0`);
    }
  });
});

describe('requests that reuse a msgid still in flight (issue: one firmware bug must not stop the process)', () => {
  /** Hold every SUBSCRIBE/PUBLISH at the broker until the test lets it go. */
  function holdAcks(b: EmbeddedBroker): (() => void)[] {
    const held: (() => void)[] = [];
    b.aedes.authorizeSubscribe = (_c, sub, cb) => held.push(() => cb(null, sub));
    b.aedes.authorizePublish = (_c, _p, cb) => held.push(() => cb(null));
    return held;
  }

  it('refuses a pipelined second AT+QMTSUB with the same msgid with ERROR, then reports the first', async () => {
    const modem = await setup();
    const held = holdAcks(broker!);
    await connected(modem);
    modem.clear();
    modem.send('AT+QMTSUB=0,1,"a",1\rAT+QMTSUB=0,1,"b",1\r');
    await modem.waitFor('\r\nOK\r\n\r\nERROR\r\n');
    for (const release of held.splice(0)) release();
    await modem.waitFor('\r\n+QMTSUB: 0,1,0,1\r\n');
    expect(await modem.at('AT')).toBe('\r\nOK\r\n');
    expect(modem.output()).not.toContain('+QMTSUB: 0,1,2');
  });

  it('refuses AT+QMTUNS and AT+QMTPUBEX with a msgid any request still holds, and the session goes on', async () => {
    const modem = await setup();
    const held = holdAcks(broker!);
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTSUB=0,7,"a",1')).toBe('\r\nOK\r\n');
    expect(await modem.at('AT+QMTUNS=0,7,"a"')).toBe('\r\nERROR\r\n');
    expect(await modem.at('AT+QMTPUBEX=0,7,1,0,"t",1')).toBe('\r\nERROR\r\n');
    for (const release of held.splice(0)) release();
    await modem.waitFor('\r\n+QMTSUB: 0,7,0,1\r\n');
    expect(await modem.at('AT+QMTUNS=0,7,"a"')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTUNS: 0,7,0\r\n');
    expect(await modem.at('AT')).toBe('\r\nOK\r\n');
  });

  it('answers every command of a pipelined burst in order while requests are in flight', async () => {
    const modem = await setup();
    const held = holdAcks(broker!);
    await connected(modem);
    modem.clear();
    modem.send('AT+QMTSUB=0,2,"a",1\rAT+QMTSUB=0,2,"a",1\rAT\rAT+QMTUNS=0,2,"a"\rAT+QMTSUB=0,3,"b",0\r');
    await modem.waitFor('\r\nOK\r\n\r\nERROR\r\n\r\nOK\r\n\r\nERROR\r\n\r\nOK\r\n');
    for (const release of held.splice(0)) release();
    await modem.waitFor('\r\n+QMTSUB: 0,3,0,0\r\n');
    await modem.waitFor('\r\n+QMTSUB: 0,2,0,1\r\n');
    expect(await modem.at('AT+QMTCONN?')).toBe('\r\n+QMTCONN: 0,3\r\n\r\nOK\r\n');
  });
});

describe('where real EC800-class modules are lenient (profile notes)', () => {
  function published(b: EmbeddedBroker): { topic: string; payload: string; qos: number; retain: boolean }[] {
    const seen: { topic: string; payload: string; qos: number; retain: boolean }[] = [];
    b.onPublish((p) => seen.push({ topic: p.topic, payload: p.payload.toString(), qos: p.qos, retain: p.retain }));
    return seen;
  }

  it('subscribes and unsubscribes with msgID 0, numbering the packet itself and reporting 0 back', async () => {
    const modem = await setup();
    const ids: number[] = [];
    broker!.aedes.on('subscribe', (_subs, client) => ids.push(client ? 1 : 0));
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTSUB=0,0,"cmd/#",1')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTSUB: 0,0,0,1\r\n');
    expect(await modem.at('AT+QMTUNS=0,0,"cmd/#"')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTUNS: 0,0,0\r\n');
    expect(ids).toEqual([1]);
  });

  it('publishes with the inline AT+QMTPUB of Quectel’s MCU SDK and reports +QMTPUB', async () => {
    const modem = await setup();
    const seen = published(broker!);
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTPUB=0,1,1,0,"t","hi"')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTPUB: 0,1,0\r\n');
    expect(await modem.at('AT+QMTPUB=0,0,0,1,"t/r","retained, with a comma"')).toBe('\r\nOK\r\n');
    await modem.waitFor('\r\n+QMTPUB: 0,0,0\r\n');
    expect(seen).toEqual([
      { topic: 't', payload: 'hi', qos: 1, retain: false },
      { topic: 't/r', payload: 'retained, with a comma', qos: 0, retain: true },
    ]);
    expect(modem.output()).not.toContain('+QMTPUBEX');
  });

  it('publishes AT+QMTPUB data up to Ctrl+Z (a stray CR after it is ignored) and of fixed length', async () => {
    const modem = await setup();
    const seen = published(broker!);
    await connected(modem);
    modem.clear();
    expect(await modem.at('AT+QMTPUB=0,2,1,0,"a"')).toBe('\r\n> ');
    modem.send('{"t":21.5}\x1a\r');
    await modem.waitFor('\r\n+QMTPUB: 0,2,0\r\n');
    expect(await modem.at('AT+QMTPUB=0,3,2,0,"b",5')).toBe('\r\n> ');
    modem.send('hello');
    await modem.waitFor('\r\n+QMTPUB: 0,3,0\r\n');
    expect(await modem.at('AT')).toBe('\r\nOK\r\n');
    expect(seen.map((p) => [p.topic, p.payload, p.qos])).toEqual([
      ['a', '{"t":21.5}', 1],
      ['b', 'hello', 2],
    ]);
  });

  it('refuses AT+QMTPUB as AT+QMTPUBEX would: wrong msgid for the QoS, an id in flight, not connected', async () => {
    const modem = await setup();
    expect(await modem.at('AT+QMTPUB=0,1,1,0,"t","x"')).toBe('\r\nERROR\r\n');
    await connected(modem);
    expect(await modem.at('AT+QMTPUB=0,1,0,0,"t","x"')).toBe('\r\nERROR\r\n');
    expect(await modem.at('AT+QMTPUB=0,0,1,0,"t","x"')).toBe('\r\nERROR\r\n');
    expect(await modem.at('AT+QMTPUB=?')).toBe('\r\n+QMTPUB: (0-5),<msgid>,(0-2),(0,1),"topic","length"\r\n\r\nOK\r\n');
  });
});

describe('AT+QMTOPEN before the data context is up (bring-up)', () => {
  it('reports 3 (PDP activation failed) while registered with no context, 5 while not registered', async () => {
    const modem = await setup();
    expect(await modem.at('AT+QIDEACT=1')).toBe('\r\nOK\r\n');
    await modem.at('AT+QMTOPEN=0,"h",1883');
    await modem.waitFor('\r\n+QMTOPEN: 0,3\r\n');
    expect(await modem.at('AT+QIACT=1')).toBe('\r\nOK\r\n');
    modem.modem.network.setRegistration(3);
    await modem.at('AT+QMTOPEN=1,"h",1883');
    await modem.waitFor('\r\n+QMTOPEN: 1,5\r\n');
  });
});
