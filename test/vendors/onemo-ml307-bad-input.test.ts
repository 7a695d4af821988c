/**
 * What OneMO firmware can send that must not stop the module: the same request pipelined before
 * the previous result, requests without a connection (idle, connecting, reconnecting, gone while
 * the message is being typed), and commands typed while the module waits for message bytes. Each
 * gets its result or the manual's documented error (§5: +CME ERROR 600–608), and `AT` answers OK
 * afterwards. On the in-memory broker link and a TestClock (the manual's real waits, virtual time).
 */
import type { Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { virtualModem, type VirtualModem } from '../helpers/virtual-modem.js';

const OK = '\r\nOK\r\n';
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;

const running: VirtualModem[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((v) => v.stop()));
});

async function virtual(drop?: (p: Packet) => boolean): Promise<VirtualModem> {
  const v = await virtualModem('onemo-ml307', drop);
  running.push(v);
  return v;
}

/** A modem whose client 0 is connected (clean session, and the settings `cfg` first). */
async function connected(...cfg: string[]): Promise<VirtualModem> {
  const v = await virtual();
  for (const line of ['AT+MQTTCFG="clean",0,1', ...cfg]) expect(await v.m.at(line), line).toBe(OK);
  expect(await v.m.at('AT+MQTTCONN=0,"iot.example.com",1883,"bad-input"')).toBe(OK);
  await v.m.waitFor('+MQTTURC: "conn",0,0\r\n');
  v.m.clear();
  return v;
}

/** Client <id>'s state as the command set reports it (AT+MQTTSTATE cannot be sent in data mode). */
function stateOf(v: VirtualModem, id = 0): string {
  const clients = v.m.modem.inspect()['onemo-mqtt'] as { state: string }[];
  return clients[id]!.state;
}

/** Let the in-memory link and the broker exchange what they have until `cond` holds. */
async function settleUntil(v: VirtualModem, cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await v.clock.advance(0);
  expect(cond(), what).toBe(true);
}

const count = (text: string, part: string) => text.split(part).length - 1;
const publishes = (v: VirtualModem) => v.f.received.filter((p): p is Extract<Packet, { cmd: 'publish' }> => p.cmd === 'publish');

describe('the same request pipelined before the previous result', () => {
  it('gives two identical AT+MQTTSUB lines sent at once a <mid> each, and reports both SUBACKs', async () => {
    const v = await connected();
    v.m.send('AT+MQTTSUB=0,"a",1\rAT+MQTTSUB=0,"a",1\r');
    await v.m.waitFor(/"suback",0,1,1\r\n[^]*"suback",0,2,1\r\n|"suback",0,2,1\r\n[^]*"suback",0,1,1\r\n/);
    // The replies come in order; the SUBACKs in the order the broker sends them (Aedes answers
    // a subscription it already holds first; MQTT orders only PUBLISH flows, §4.6).
    const out = v.m.output();
    expect(out.startsWith(reply('+MQTTSUB: 0,1') + reply('+MQTTSUB: 0,2'))).toBe(true);
    expect([...out.slice((reply('+MQTTSUB: 0,1') + reply('+MQTTSUB: 0,2')).length).matchAll(/\r\n([^\r]*)\r\n/g)].map((x) => x[1]).sort()).toEqual([
      '+MQTTURC: "suback",0,1,1',
      '+MQTTURC: "suback",0,2,1',
    ]);
    expect(await v.m.at('AT+MQTTSUB=0')).toBe(reply('+MQTTSUB: "a",1'));
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('gives two identical AT+MQTTUNSUB lines sent at once a <mid> each, and reports both UNSUBACKs', async () => {
    const v = await connected();
    v.m.send('AT+MQTTSUB=0,"a",0\rAT+MQTTUNSUB=0,"a"\rAT+MQTTUNSUB=0,"a"\r');
    await v.m.waitFor('"unsuback",0,3\r\n');
    expect(v.m.output()).toBe(
      reply('+MQTTSUB: 0,1') +
        reply('+MQTTUNSUB: 0,2') +
        reply('+MQTTUNSUB: 0,3') +
        urc('+MQTTURC: "suback",0,1,0') +
        urc('+MQTTURC: "unsuback",0,2') +
        urc('+MQTTURC: "unsuback",0,3'),
    );
    expect(await v.m.at('AT+MQTTSUB=0')).toBe(OK);
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('sends two identical QoS 1 and QoS 2 AT+MQTTPUB lines sent at once as separate packets with their own ids', async () => {
    const v = await connected();
    v.m.send('AT+MQTTPUB=0,"t",1,0,0,1,"x"\rAT+MQTTPUB=0,"t",1,0,0,1,"x"\rAT+MQTTPUB=0,"t",2,0,0,1,"x"\rAT+MQTTPUB=0,"t",2,0,0,1,"x"\r');
    await v.m.waitFor('"pubcomp",0,4,0\r\n');
    const out = v.m.output();
    expect(out.startsWith(reply('+MQTTPUB: 0,1,8') + reply('+MQTTPUB: 0,2,8') + reply('+MQTTPUB: 0,3,8') + reply('+MQTTPUB: 0,4,8'))).toBe(true);
    for (const line of ['"puback",0,1,0', '"puback",0,2,0', '"pubrec",0,3,0', '"pubcomp",0,3,0', '"pubrec",0,4,0', '"pubcomp",0,4,0']) {
      expect(count(out, `+MQTTURC: ${line}\r\n`), line).toBe(1);
    }
    expect(publishes(v).map((p) => [p.messageId, p.qos, p.dup])).toEqual([
      [1, 1, false],
      [2, 1, false],
      [3, 2, false],
      [4, 2, false],
    ]);
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('answers a second AT+MQTTCONN sent with the first 603 and connects once', async () => {
    const v = await virtual();
    v.m.send('AT+MQTTCONN=0,"h",1883,"twice"\rAT+MQTTCONN=0,"h",1883,"twice"\r');
    await v.m.waitFor('"conn",0,0\r\n');
    expect(v.m.output()).toBe(OK + cme(603) + urc('+MQTTURC: "conn",0,0'));
    await v.clock.advance(60_000);
    expect(count(v.m.output(), '"conn",0,')).toBe(1);
    expect(v.f.received.filter((p) => p.cmd === 'connect')).toHaveLength(1);
    expect(await v.m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
  });

  it('answers AT+MQTTSUB and AT+MQTTPUB pipelined behind AT+MQTTCONN with 603 (正在连接)', async () => {
    const v = await virtual();
    v.m.send('AT+MQTTCONN=0,"h",1883,"early"\rAT+MQTTSUB=0,"t",0\rAT+MQTTPUB=0,"t",0,0,0,1,"x"\rAT+MQTTPUB=0,"t",0,0,0,1\r');
    await v.m.waitFor('"conn",0,0\r\n');
    expect(v.m.output()).toBe(OK + cme(603) + cme(603) + cme(603) + urc('+MQTTURC: "conn",0,0'));
    expect(publishes(v)).toHaveLength(0);
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('answers a second AT+MQTTDISC, and an AT+MQTTCONN, sent before "conn",<id>,2 with 607 (状态错误)', async () => {
    const v = await connected();
    v.m.send('AT+MQTTDISC=0\rAT+MQTTDISC=0\rAT+MQTTCONN=0,"h",1883,"again"\r');
    await v.m.waitFor('"conn",0,2\r\n');
    expect(v.m.output()).toBe(OK + cme(607) + cme(607) + urc('+MQTTURC: "conn",0,2'));
    await v.clock.advance(60_000);
    expect(count(v.m.output(), '"conn",0,')).toBe(1);
    expect(await v.m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 3'));
    expect(await v.m.at('AT+MQTTDISC=0')).toBe(cme(602));
    expect(await v.m.at('AT+MQTTCONN=0,"h",1883,"again"')).toBe(OK);
    await v.m.waitFor('"conn",0,0\r\n');
  });
});

describe('requests without a connection', () => {
  it('answers 602 to publish, subscribe and unsubscribe on a client never connected, inline and before data mode', async () => {
    const v = await virtual();
    for (const line of ['AT+MQTTPUB=0,"t",1,0,0,1,"x"', 'AT+MQTTPUB=0,"t",1,0,0,1', 'AT+MQTTPUB=0,"t",0,0,0,0', 'AT+MQTTSUB=0,"t",1', 'AT+MQTTUNSUB=0,"t"']) {
      expect(await v.m.at(line), line).toBe(cme(602));
    }
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('answers 603 while reconnecting and publishes again once "conn",<id>,0 is reported', async () => {
    const v = await connected();
    v.dropClients();
    await v.m.waitFor('"conn",0,1\r\n');
    for (const line of ['AT+MQTTPUB=0,"t",1,0,0,1,"x"', 'AT+MQTTPUB=0,"t",1,0,0,1', 'AT+MQTTSUB=0,"t",1', 'AT+MQTTUNSUB=0,"t"']) {
      expect(await v.m.at(line), line).toBe(cme(603));
    }
    expect(await v.m.at('AT')).toBe(OK);
    await v.m.waitFor('"conn",0,0\r\n', 21_000);
    expect(await v.m.at('AT+MQTTPUB=0,"t",1,0,0,1,"x"')).toBe(reply('+MQTTPUB: 0,1,8'));
    await v.m.waitFor('"puback",0,1,0\r\n');
  });

  it('answers 602 after the message when the connection ends while it is typed ("reconn" 0), then reports the loss', async () => {
    const v = await connected('AT+MQTTCFG="reconn",0,0');
    expect(await v.m.at('AT+MQTTPUB=0,"t",1,0,0,5')).toBe('\r\n> ');
    v.dropClients();
    await settleUntil(v, () => stateOf(v) === 'idle', 'the loss reached the client');
    v.m.send('hello');
    await v.m.waitFor('"conn",0,4\r\n');
    expect(v.m.output()).toBe('\r\n> ' + cme(602) + urc('+MQTTURC: "conn",0,4'));
    expect(publishes(v)).toHaveLength(0);
    expect(await v.m.at('AT')).toBe(OK);
  });

  it('answers 603 after the message when the connection ends while it is typed and a reconnection is under way', async () => {
    const v = await connected();
    expect(await v.m.at('AT+MQTTPUB=0,"t",1,0,0,5')).toBe('\r\n> ');
    v.dropClients();
    await settleUntil(v, () => stateOf(v) === 'reconnecting', 'the loss reached the client');
    v.m.send('hello');
    await v.m.waitFor('"conn",0,1\r\n');
    expect(v.m.output()).toBe('\r\n> ' + cme(603) + urc('+MQTTURC: "conn",0,1'));
    expect(await v.m.at('AT')).toBe(OK);
    await v.m.waitFor('"conn",0,0\r\n', 21_000);
    expect(publishes(v)).toHaveLength(0);
  });
});

describe('commands typed while the module waits for the message', () => {
  it('takes a command line as message bytes up to <msg_len>; the rest, not starting with AT, is dropped', async () => {
    const v = await connected();
    expect(await v.m.at('AT+MQTTPUB=0,"t",0,0,0,5')).toBe('\r\n> ');
    v.m.send('AT+MQTTDISC=0\r');
    await v.m.waitFor('+MQTTPUB: 0,1,10\r\n\r\nOK\r\n');
    expect(v.m.output()).toBe('\r\n> ' + reply('+MQTTPUB: 0,1,10'));
    expect(await v.m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
    expect(await v.m.at('AT')).toBe(OK);
    await settleUntil(v, () => publishes(v).length === 1, 'the publish');
    expect(publishes(v)[0]!.payload.toString()).toBe('AT+MQ');
  });

  it('takes bytes pipelined behind the AT+MQTTPUB line as the message', async () => {
    const v = await connected();
    v.m.send('AT+MQTTPUB=0,"t",0,0,0,3\rAT\r');
    await v.m.waitFor('+MQTTPUB: 0,1,8\r\n\r\nOK\r\n');
    expect(v.m.output()).toBe('\r\n> ' + reply('+MQTTPUB: 0,1,8'));
    expect(await v.m.at('AT')).toBe(OK);
    await settleUntil(v, () => publishes(v).length === 1, 'the publish');
    expect(publishes(v)[0]!.payload.toString('latin1')).toBe('AT\r');
  });

  it('takes whole command lines as the message until Ctrl+Z when <msg_len> is 0, and stays connected', async () => {
    const v = await connected();
    expect(await v.m.at('AT+MQTTPUB=0,"t",0,0,0,0')).toBe('\r\n> ');
    v.m.send('AT+MQTTDISC=0\rAT+CFUN=0\r\x1a');
    // 24 message bytes: 1 + 1 + (2 + 1) + 24.
    await v.m.waitFor('+MQTTPUB: 0,1,29\r\n\r\nOK\r\n');
    expect(await v.m.at('AT+MQTTSTATE=0')).toBe(reply('+MQTTSTATE: 2'));
    expect(await v.m.at('AT')).toBe(OK);
    await settleUntil(v, () => publishes(v).length === 1, 'the publish');
    expect(publishes(v)[0]!.payload.toString('latin1')).toBe('AT+MQTTDISC=0\rAT+CFUN=0\r');
  });

  it('answers 601 when ESC cancels the message, and publishes nothing', async () => {
    const v = await connected();
    expect(await v.m.at('AT+MQTTPUB=0,"t",1,0,0,0')).toBe('\r\n> ');
    v.m.send('AT+MQTTSUB=0,"a",1\r\x1b');
    await v.m.waitFor(cme(601));
    expect(await v.m.at('AT+MQTTSUB=0')).toBe(OK);
    expect(await v.m.at('AT')).toBe(OK);
    expect(publishes(v)).toHaveLength(0);
  });
});
