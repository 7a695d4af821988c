/**
 * The EC200 under bad input (the robustness issue): every case answers as the manual says, the
 * module keeps answering `AT` with OK afterwards, and an established MQTT session keeps working.
 * Sessions run against a real embedded broker.
 *
 * The manual documents a plain `ERROR` for any failure of the QMT commands ("若出现任何错误：
 * ERROR"), so they never answer `+CME ERROR` whatever AT+CMEE says.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const PROMPT = '\r\n> ';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;

const modems: MemoryModem[] = [];
const brokers: EmbeddedBroker[] = [];

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

function modem(opts: Parameters<typeof createMemoryModem>[1] = {}): MemoryModem {
  const m = createMemoryModem('quectel-ec200', opts);
  modems.push(m);
  return m;
}

async function broker(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  brokers.push(b);
  return b;
}

/** The state of QMT client `idx` (idle, open, connected…). */
function qmtState(m: MemoryModem, idx: number): string {
  const clients = m.modem.inspect()['quectel-qmt-ec200'] as { state: string }[];
  return clients[idx]!.state;
}

/** Open and connect client `idx` (after running `before`, e.g. QMTCFG settings). */
async function connect(m: MemoryModem, idx = 0, before: string[] = []): Promise<void> {
  for (const line of before) expect(await m.at(line), line).toBe(OK);
  expect(await m.at(`AT+QMTOPEN=${idx},"h",1883`)).toBe(OK);
  expect(await m.waitFor(`+QMTOPEN: ${idx},0\r\n`)).toBe(`${OK}${urc(`+QMTOPEN: ${idx},0`)}`);
  expect(await m.at(`AT+QMTCONN=${idx},"c${idx}"`)).toBe(OK);
  expect(await m.waitFor(`+QMTCONN: ${idx},0,0\r\n`)).toBe(`${OK}${urc(`+QMTCONN: ${idx},0,0`)}`);
}

/** A modem with client 0 connected to a fresh embedded broker. */
async function session(before: string[] = []): Promise<{ m: MemoryModem; b: EmbeddedBroker }> {
  const b = await broker();
  const m = modem({ brokerPort: b.port });
  await connect(m, 0, before);
  return { m, b };
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

/** AT answers OK and a QoS 1 publish on client 0 goes through: the session still works. */
async function sessionWorks(m: MemoryModem, b: EmbeddedBroker, msgid: number): Promise<void> {
  expect(await m.at('AT')).toBe(OK);
  const got = nextPublish(b, 'vm/ok');
  expect(await m.at(`AT+QMTPUBEX=0,${msgid},1,0,"vm/ok",2`)).toBe(PROMPT);
  m.clear();
  m.send('ok');
  expect(await m.waitFor(`+QMTPUBEX: 0,${msgid},0\r\n`)).toBe(`${OK}${urc(`+QMTPUBEX: 0,${msgid},0`)}`);
  const p = await got;
  expect(p.payload.toString('latin1')).toBe('ok');
  expect(p.qos).toBe(1);
}

describe('unknown commands', () => {
  it('answers plain ERROR to AT+FOO (CMEE 0, 1 and 2), then AT answers OK', async () => {
    const m = modem();
    for (const n of [0, 1, 2]) {
      expect(await m.at(`AT+CMEE=${n}`)).toBe(OK);
      expect(await m.at('AT+FOO')).toBe(ERROR);
      expect(await m.at('AT+FOO=1,"x"')).toBe(ERROR);
      expect(await m.at('AT+FOO?')).toBe(ERROR);
      expect(await m.at('AT')).toBe(OK);
    }
  });

  it('answers ERROR to an unknown command on an established session, and the session still works', async () => {
    const { m, b } = await session();
    expect(await m.at('AT+QMTFOO=0')).toBe(ERROR);
    expect(await m.at('AT+FOO')).toBe(ERROR);
    await sessionWorks(m, b, 1);
  });
});

/** A bad line and why it is bad. */
type Row = [kind: 'missing' | 'extra' | 'range' | 'type' | 'form', line: string];

const long = (n: number) => 'x'.repeat(n);

/**
 * Client 0 is connected, client 1 is open but not connected, client 2 is idle: each row aims at
 * the client for which only its arguments can be wrong (QMTCONN needs an open client, QMTCFG a
 * client without an MQTT connection, QMTSUB/UNS/PUBEX/RECV a connected one).
 */
const TABLE: Record<string, Row[]> = {
  QMTCFG: [
    ['missing', 'AT+QMTCFG='],
    ['missing', 'AT+QMTCFG="keepalive"'],
    ['missing', 'AT+QMTCFG="keepalive",'],
    ['missing', 'AT+QMTCFG=,1'],
    ['missing', 'AT+QMTCFG="timeout",1,5,3'],
    ['missing', 'AT+QMTCFG="dataformat",1,1'],
    ['missing', 'AT+QMTCFG="will",1,1,0,0'],
    ['missing', 'AT+QMTCFG="onenet",1,"pid"'],
    ['extra', 'AT+QMTCFG="keepalive",1,60,1'],
    ['extra', 'AT+QMTCFG="version",1,4,4'],
    ['extra', 'AT+QMTCFG="session",1,1,0'],
    ['extra', 'AT+QMTCFG="edit/timeout",1,1,5,0'],
    ['extra', 'AT+QMTCFG="timeout",1,5,3,0,1'],
    ['range', 'AT+QMTCFG="keepalive",6,60'],
    ['range', 'AT+QMTCFG="keepalive",-1'],
    ['range', 'AT+QMTCFG="keepalive",6'],
    ['range', 'AT+QMTCFG="keepalive",1,3601'],
    ['range', 'AT+QMTCFG="keepalive",1,-1'],
    ['range', 'AT+QMTCFG="version",1,5'],
    ['range', 'AT+QMTCFG="pdpcid",1,16'],
    ['range', 'AT+QMTCFG="pdpcid",1,0'],
    ['range', 'AT+QMTCFG="ssl",1,2'],
    ['range', 'AT+QMTCFG="ssl",1,1,6'],
    ['range', 'AT+QMTCFG="session",1,2'],
    ['range', 'AT+QMTCFG="timeout",1,61,3,0'],
    ['range', 'AT+QMTCFG="timeout",1,5,11,0'],
    ['range', 'AT+QMTCFG="will",1,1,3,0,"t","m"'],
    ['range', `AT+QMTCFG="will",1,1,0,0,"${long(257)}","m"`],
    ['range', 'AT+QMTCFG="willex",1,1,0,0,"t",257'],
    ['range', 'AT+QMTCFG="recv/mode",1,2'],
    ['range', 'AT+QMTCFG="qmtping",1,4'],
    ['range', 'AT+QMTCFG="qmtping",1,61'],
    ['range', 'AT+QMTCFG="send/mode",1,2'],
    ['range', 'AT+QMTCFG="view/mode",1,2'],
    ['range', 'AT+QMTCFG="edit/timeout",1,1,121'],
    ['range', 'AT+QMTCFG="edit/timeout",1,1,0'],
    ['type', 'AT+QMTCFG=keepalive,1,60'],
    ['type', 'AT+QMTCFG=5,1'],
    ['type', 'AT+QMTCFG="nosuch",1'],
    ['type', 'AT+QMTCFG="keepalive","1",60'],
    ['type', 'AT+QMTCFG="keepalive",1,"60"'],
    ['type', 'AT+QMTCFG="keepalive",1,0x3C'],
    ['type', 'AT+QMTCFG="keepalive",1,6.0'],
    ['type', 'AT+QMTCFG="aliauth",1,a,b,c'],
    ['type', 'AT+QMTCFG="will",1,1,0,0,t,"m"'],
    ['form', 'AT+QMTCFG?'],
    ['form', 'AT+QMTCFG'],
  ],
  QMTOPEN: [
    ['missing', 'AT+QMTOPEN='],
    ['missing', 'AT+QMTOPEN=2'],
    ['missing', 'AT+QMTOPEN=2,"h"'],
    ['missing', 'AT+QMTOPEN=2,,1883'],
    ['missing', 'AT+QMTOPEN=,"h",1883'],
    ['missing', 'AT+QMTOPEN=2,"h",'],
    ['extra', 'AT+QMTOPEN=2,"h",1883,0'],
    ['extra', 'AT+QMTOPEN=2,"h",1883,'],
    ['range', 'AT+QMTOPEN=6,"h",1883'],
    ['range', 'AT+QMTOPEN=-1,"h",1883'],
    ['range', 'AT+QMTOPEN=2,"h",0'],
    ['range', 'AT+QMTOPEN=2,"h",65536'],
    ['range', 'AT+QMTOPEN=2,"",1883'],
    ['range', `AT+QMTOPEN=2,"${long(101)}",1883`],
    ['type', 'AT+QMTOPEN=2,h,1883'],
    ['type', 'AT+QMTOPEN=2,"h","1883"'],
    ['type', 'AT+QMTOPEN="2","h",1883'],
    ['type', 'AT+QMTOPEN=2,"h",18.83'],
    ['type', 'AT+QMTOPEN=2,"h",0x75B'],
    ['form', 'AT+QMTOPEN'],
  ],
  QMTCLOSE: [
    ['missing', 'AT+QMTCLOSE='],
    ['extra', 'AT+QMTCLOSE=2,0'],
    ['extra', 'AT+QMTCLOSE=2,'],
    ['range', 'AT+QMTCLOSE=6'],
    ['range', 'AT+QMTCLOSE=-1'],
    ['range', 'AT+QMTCCLOSE=6'],
    ['type', 'AT+QMTCLOSE="0"'],
    ['type', 'AT+QMTCLOSE=zero'],
    ['type', 'AT+QMTCLOSE=0.0'],
    ['form', 'AT+QMTCLOSE'],
    ['form', 'AT+QMTCLOSE?'],
  ],
  QMTCONN: [
    ['missing', 'AT+QMTCONN='],
    ['missing', 'AT+QMTCONN=1'],
    ['missing', 'AT+QMTCONN=1,'],
    ['missing', 'AT+QMTCONN=,"c"'],
    ['extra', 'AT+QMTCONN=1,"c","u","p",0'],
    ['range', 'AT+QMTCONN=6,"c"'],
    ['range', 'AT+QMTCONN=-1,"c"'],
    ['range', 'AT+QMTCONN=1,""'],
    ['range', `AT+QMTCONN=1,"${long(257)}"`],
    ['range', `AT+QMTCONN=1,"c","${long(257)}","p"`],
    ['range', `AT+QMTCONN=1,"c","u","${long(257)}"`],
    ['type', 'AT+QMTCONN=1,c'],
    ['type', 'AT+QMTCONN=1,5'],
    ['type', 'AT+QMTCONN="1","c"'],
    ['type', 'AT+QMTCONN=1,"c",u,"p"'],
    ['type', 'AT+QMTCONN=1,"c","u",5'],
    ['form', 'AT+QMTCONN'],
  ],
  QMTDISC: [
    ['missing', 'AT+QMTDISC='],
    ['extra', 'AT+QMTDISC=2,0'],
    ['range', 'AT+QMTDISC=6'],
    ['range', 'AT+QMTDISC=-1'],
    ['type', 'AT+QMTDISC="0"'],
    ['type', 'AT+QMTDISC=a'],
    ['form', 'AT+QMTDISC'],
    ['form', 'AT+QMTDISC?'],
  ],
  QMTSUB: [
    ['missing', 'AT+QMTSUB='],
    ['missing', 'AT+QMTSUB=0'],
    ['missing', 'AT+QMTSUB=0,1'],
    ['missing', 'AT+QMTSUB=0,1,"t"'],
    ['missing', 'AT+QMTSUB=0,1,"t",'],
    ['missing', 'AT+QMTSUB=0,1,,0'],
    ['missing', 'AT+QMTSUB=0,,"t",0'],
    ['missing', 'AT+QMTSUB=,1,"t",0'],
    ['missing', 'AT+QMTSUB=0,1,"a",0,"b"'],
    ['extra', 'AT+QMTSUB=0,1,"t",0,1'],
    ['extra', 'AT+QMTSUB=0,1,"a",0,"b",0,"c",0,"d",0,"e",0,"f",0'],
    ['range', 'AT+QMTSUB=6,1,"t",0'],
    ['range', 'AT+QMTSUB=-1,1,"t",0'],
    // msgID 0 is accepted as on real EC800-class modules (profile notes; quectel-qmt.test.ts).
    ['range', 'AT+QMTSUB=0,65536,"t",0'],
    ['range', 'AT+QMTSUB=0,1,"t",3'],
    ['range', 'AT+QMTSUB=0,1,"t",-1'],
    ['range', 'AT+QMTSUB=0,1,"",0'],
    ['range', `AT+QMTSUB=0,1,"${long(257)}",0`],
    ['type', 'AT+QMTSUB=0,1,t,0'],
    ['type', 'AT+QMTSUB=0,1,5,0'],
    ['type', 'AT+QMTSUB=0,1,"t","0"'],
    ['type', 'AT+QMTSUB="0",1,"t",0'],
    ['type', 'AT+QMTSUB=0,"1","t",0'],
    ['type', 'AT+QMTSUB=0,0x1,"t",0'],
    ['form', 'AT+QMTSUB'],
    ['form', 'AT+QMTSUB?'],
  ],
  QMTUNS: [
    ['missing', 'AT+QMTUNS='],
    ['missing', 'AT+QMTUNS=0'],
    ['missing', 'AT+QMTUNS=0,1'],
    ['missing', 'AT+QMTUNS=0,1,'],
    ['missing', 'AT+QMTUNS=0,,"t"'],
    ['extra', 'AT+QMTUNS=0,1,"a","b","c","d","e","f"'],
    ['range', 'AT+QMTUNS=6,1,"t"'],
    ['range', 'AT+QMTUNS=0,65536,"t"'],
    ['range', 'AT+QMTUNS=0,1,""'],
    ['range', `AT+QMTUNS=0,1,"${long(257)}"`],
    ['type', 'AT+QMTUNS=0,1,t'],
    ['type', 'AT+QMTUNS=0,1,5'],
    ['type', 'AT+QMTUNS="0",1,"t"'],
    ['type', 'AT+QMTUNS=0,a,"t"'],
    ['form', 'AT+QMTUNS'],
    ['form', 'AT+QMTUNS?'],
  ],
  QMTPUBEX: [
    ['missing', 'AT+QMTPUBEX='],
    ['missing', 'AT+QMTPUBEX=0,0,0,0'],
    ['missing', 'AT+QMTPUBEX=0,0,0,0,"t"'],
    ['missing', 'AT+QMTPUBEX=0,0,0,0,"t",'],
    ['missing', 'AT+QMTPUBEX=0,0,0,,"t",5'],
    ['missing', 'AT+QMTPUBEX=0,0,,0,"t",5'],
    ['missing', 'AT+QMTPUBEX=0,,0,0,"t",5'],
    ['missing', 'AT+QMTPUBEX=,0,0,0,"t",5'],
    ['extra', 'AT+QMTPUBEX=0,0,0,0,"t",5,1'],
    ['extra', 'AT+QMTPUBEX=0,0,0,0,"t",5,'],
    ['range', 'AT+QMTPUBEX=6,0,0,0,"t",5'],
    ['range', 'AT+QMTPUBEX=-1,0,0,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,65536,1,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,-1,1,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,0,3,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,0,0,2,"t",5'],
    ['range', 'AT+QMTPUBEX=0,0,0,0,"t",0'],
    ['range', 'AT+QMTPUBEX=0,0,0,0,"t",-5'],
    ['range', 'AT+QMTPUBEX=0,0,0,0,"t",1501'],
    ['range', 'AT+QMTPUBEX=0,1,0,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,0,1,0,"t",5'],
    ['range', 'AT+QMTPUBEX=0,0,0,0,"",5'],
    ['range', `AT+QMTPUBEX=0,0,0,0,"${long(257)}",5`],
    ['type', 'AT+QMTPUBEX=0,0,0,0,t,5'],
    ['type', 'AT+QMTPUBEX=0,0,0,0,"t","5"'],
    ['type', 'AT+QMTPUBEX="0",0,0,0,"t",5'],
    ['type', 'AT+QMTPUBEX=0,0,"0",0,"t",5'],
    ['type', 'AT+QMTPUBEX=0,0,0,0,"t",0x5'],
    ['type', 'AT+QMTPUBEX=0,0,0,0,"t",5.0'],
    ['form', 'AT+QMTPUBEX'],
    ['form', 'AT+QMTPUBEX?'],
  ],
  QMTRECV: [
    ['missing', 'AT+QMTRECV='],
    ['missing', 'AT+QMTRECV=,1'],
    ['extra', 'AT+QMTRECV=0,1,1'],
    ['range', 'AT+QMTRECV=6'],
    ['range', 'AT+QMTRECV=-1'],
    ['range', 'AT+QMTRECV=0,5'],
    ['range', 'AT+QMTRECV=0,-1'],
    ['type', 'AT+QMTRECV="0"'],
    ['type', 'AT+QMTRECV=0,"1"'],
    ['type', 'AT+QMTRECV=a'],
    ['form', 'AT+QMTRECV'],
  ],
};

describe('every QMT command with missing / extra / out-of-range / wrong-type arguments answers plain ERROR', () => {
  for (const [command, rows] of Object.entries(TABLE)) {
    it(`AT+${command}: ${rows.length} bad lines each answer \\r\\nERROR\\r\\n under CMEE=1 and CMEE=2; then AT answers OK and the session still works`, async () => {
      const { m, b } = await session();
      // Client 1: network open, no MQTT connection.
      expect(await m.at('AT+QMTOPEN=1,"h",1883')).toBe(OK);
      await m.waitFor('+QMTOPEN: 1,0\r\n');

      const wrong: { cmee: number; kind: string; line: string; got: string }[] = [];
      for (const cmee of [1, 2]) {
        expect(await m.at(`AT+CMEE=${cmee}`)).toBe(OK);
        for (const [kind, line] of rows) {
          const got = await m.at(line);
          if (got !== ERROR) wrong.push({ cmee, kind, line, got });
          if (got === PROMPT) {
            // A wrongly accepted AT+QMTPUBEX: finish its input so the next rows still run.
            m.send('x'.repeat(5));
            await m.waitFor(/\r\n(OK|ERROR)\r\n/);
          }
        }
      }
      expect(wrong).toEqual([]);

      // Nothing changed: client 0 still connected, client 1 still open, client 2 idle.
      expect(await m.at('AT')).toBe(OK);
      expect(await m.at('AT+QMTCONN?')).toBe(reply('+QMTCONN: 0,3', '+QMTCONN: 1,1'));
      expect(await m.at('AT+QMTOPEN?')).toBe(reply('+QMTOPEN: 0,"h",1883', '+QMTOPEN: 1,"h",1883'));
      await sessionWorks(m, b, 9);
    });
  }
});

describe('unterminated quotes', () => {
  it('answer ERROR on every QMT command, then AT answers OK and the session still works', async () => {
    const { m, b } = await session();
    for (const line of [
      'AT+QMTCFG="keepalive,1,60',
      'AT+QMTCFG="keepalive",1,"',
      'AT+QMTOPEN=2,"h,1883',
      'AT+QMTCONN=1,"c',
      'AT+QMTSUB=0,1,"t,0',
      'AT+QMTUNS=0,1,"t',
      'AT+QMTPUBEX=0,0,0,0,"t,5',
      'AT+QMTPUBEX=0,0,0,0,"t",5;+QMTOPEN=2,"',
      'AT+QMTCLOSE="0',
      'AT+QMTDISC="0',
      'AT+QMTRECV="0',
      'AT+QMTOPEN=2,"h"x,1883',
    ]) {
      expect(await m.at(line), line).toBe(ERROR);
    }
    await sessionWorks(m, b, 2);
  });
});

describe('a 10 KB command line', () => {
  const line = `AT+QMTPUBEX=0,0,0,0,"${'t'.repeat(10 * 1024)}",5`;

  it('answers exactly one ERROR (echo off), then AT answers OK, and the session still works', async () => {
    const { m, b } = await session();
    m.clear();
    m.send(`${line}\r\nAT\r\n`);
    await m.waitFor(/OK\r\n$/);
    expect(m.output()).toBe(`${ERROR}${OK}`);
    await sessionWorks(m, b, 3);
  });

  it('echoes only the first 1024 characters and the CR, then answers exactly one ERROR (echo on)', async () => {
    const m = modem({ echo: true });
    m.send(`${line}\r`);
    await m.waitFor(ERROR);
    expect(m.output()).toBe(`${line.slice(0, 1024)}\r${ERROR}`);
    expect(await m.at('AT')).toBe(`AT\r${OK}`);
  });

  it('accepts a line of exactly 1024 characters (maxLineLength counts AT) and refuses 1025', async () => {
    const m = modem();
    const fit = `AT+QMTCFG="keepalive",0,60;${';'.repeat(1024 - 'AT+QMTCFG="keepalive",0,60;'.length)}`;
    expect(fit).toHaveLength(1024);
    expect(await m.at(fit)).toBe(OK);
    expect(await m.at(`${fit};`)).toBe(ERROR);
  });
});

describe('binary junk outside data mode', () => {
  const junk = Buffer.from([0x00, 0x1a, 0xff, 0x1b, 0x08, 0x7f, 0x0d, 0x0a, 0x80, 0xfe, 0x00, 0x41, 0xff, 0x1a, 0x0d, 0x00, 0x0a, 0x0a]);

  it('is dropped without any answer or echo (NUL, 0x1A, 0xFF, ESC, lone A…); then AT answers OK', async () => {
    const m = modem({ echo: true });
    m.send(junk);
    m.send('AT\r');
    await m.waitFor(OK);
    expect(m.output()).toBe(`AT\r${OK}`);
  });

  it('inside a command line answers ERROR (no crash); then AT answers OK', async () => {
    const m = modem();
    expect(await m.at('AT\x00\xff\x1a')).toBe(ERROR);
    expect(await m.at('AT+QMTOPEN=\x00,"h",1883')).toBe(ERROR);
    expect(await m.at('AT')).toBe(OK);
  });

  it('does not disturb an established session', async () => {
    const { m, b } = await session();
    m.clear();
    m.send(Buffer.concat([junk, junk, junk]));
    m.send('AT\r');
    await m.waitFor(OK);
    expect(m.output()).toBe(OK);
    await sessionWorks(m, b, 4);
  });
});

describe('AT+QMTPUBEX data input', () => {
  it('ESC inside the prompt is payload, not a cancel: fixed-length input is binary-safe, exactly <length> bytes are published', async () => {
    const { m, b } = await session();
    const got = nextPublish(b, 'vm/esc');
    expect(await m.at('AT+QMTPUBEX=0,0,0,0,"vm/esc",8')).toBe(PROMPT);
    m.clear();
    const payload = Buffer.from([0x61, 0x1b, 0x62, 0x1a, 0x00, 0x0d, 0x0a, 0xff]);
    m.send(payload);
    expect(await m.waitFor('+QMTPUBEX: 0,0,0\r\n')).toBe(`${OK}${urc('+QMTPUBEX: 0,0,0')}`);
    expect((await got).payload).toEqual(payload);
    await sessionWorks(m, b, 5);
  });

  it('a CRLF-terminated AT+QMTPUBEX line does not put the LF into the payload (the LF belongs to the command line)', async () => {
    const { m, b } = await session();
    const got = nextPublish(b, 'vm/crlf');
    m.clear();
    m.send('AT+QMTPUBEX=0,0,0,0,"vm/crlf",3\r\n');
    expect(await m.waitFor(PROMPT)).toBe(PROMPT);
    m.clear();
    m.send('abc');
    expect(await m.waitFor('+QMTPUBEX: 0,0,0\r\n')).toBe(`${OK}${urc('+QMTPUBEX: 0,0,0')}`);
    expect((await got).payload.toString('latin1')).toBe('abc');
  });

  it('takes exactly <length> bytes: a payload followed by AT\\r in one chunk publishes <length> bytes and the AT is answered', async () => {
    const { m, b } = await session();
    const got = nextPublish(b, 'vm/exact');
    expect(await m.at('AT+QMTPUBEX=0,0,0,0,"vm/exact",4')).toBe(PROMPT);
    m.clear();
    m.send('dataAT\r');
    await m.waitFor('+QMTPUBEX: 0,0,0\r\n');
    expect(m.output()).toBe(`${OK}${OK}${urc('+QMTPUBEX: 0,0,0')}`);
    expect((await got).payload.toString('latin1')).toBe('data');
  });

  it('a firmware that stops sending mid-prompt gets ERROR after the edit/timeout idle time (1 s); AT answers OK and the session still works', async () => {
    const { m, b } = await session(['AT+QMTCFG="edit/timeout",0,1,1']);
    expect(await m.at('AT+QMTCFG="edit/timeout",0')).toBe(reply('+QMTCFG: "edit/timeout",1,1'));
    let published = 0;
    b.onPublish((p) => {
      if (p.topic === 'vm/cut') published++;
    });
    expect(await m.at('AT+QMTPUBEX=0,0,0,0,"vm/cut",10')).toBe(PROMPT);
    m.clear();
    m.send('abc');
    expect(await m.waitFor(ERROR)).toBe(ERROR);
    expect(await m.at('AT')).toBe(OK);
    expect(published).toBe(0);
    await sessionWorks(m, b, 6);
  });

  it('the broker dying while the payload is typed: ERROR for the publish, then +QMTSTAT: 0,1 in its own write; AT answers OK', async () => {
    const { m, b } = await session();
    expect(await m.at('AT+QMTPUBEX=0,1,1,0,"vm/die",10')).toBe(PROMPT);
    m.clear();
    m.send('abc');
    await b.close();
    // The link loss is noticed now, but its URC waits for the data exchange to end.
    await vi.waitFor(() => expect(qmtState(m, 0)).toBe('idle'));
    expect(m.output()).toBe('');
    m.send('defghij');
    await m.waitFor('+QMTSTAT: 0,1\r\n');
    expect(m.port.host.writes.map((w) => w.toString('latin1'))).toEqual([ERROR, urc('+QMTSTAT: 0,1')]);
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at('AT+QMTCONN?')).toBe(OK);
  });

  it('the broker dying while a QoS 1 publish waits for PUBACK: OK, then +QMTSTAT: 0,1 and +QMTPUBEX: 0,1,2, each in its own write; AT answers OK', async () => {
    const { m, b } = await session();
    let held = 0;
    // The broker never acknowledges: the publish stays in flight until the broker goes away.
    b.aedes.authorizePublish = () => {
      held++;
    };
    expect(await m.at('AT+QMTPUBEX=0,1,1,0,"vm/die",5')).toBe(PROMPT);
    m.clear();
    m.send('hello');
    await m.waitFor(OK);
    await vi.waitFor(() => expect(held).toBe(1));
    await b.close();
    await m.waitFor(/\+QMTSTAT: 0,1\r\n[\s\S]*\+QMTPUBEX: 0,1,2\r\n|\+QMTPUBEX: 0,1,2\r\n[\s\S]*\+QMTSTAT: 0,1\r\n/);
    const writes = m.port.host.writes.map((w) => w.toString('latin1'));
    expect(writes[0]).toBe(OK);
    expect(writes.slice(1).sort()).toEqual([urc('+QMTPUBEX: 0,1,2'), urc('+QMTSTAT: 0,1')].sort());
    expect(await m.at('AT')).toBe(OK);
    expect(await m.at('AT+QMTCONN?')).toBe(OK);
  });
});
