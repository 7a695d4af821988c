/**
 * AT+QMTCFG on the EC200 profile (manual §3.3.1, examples §5.1/§5.2): exact response bytes.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { brokerLinkOpener } from '../../src/modem/link-opener.js';
import { Modem } from '../../src/modem/modem.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
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

function modem(opts: Parameters<typeof createMemoryModem>[1] = {}): MemoryModem {
  const m = createMemoryModem('quectel-ec200', opts);
  modems.push(m);
  return m;
}

/** Host bytes of a UTF-8 text, as the latin1 string the memory port sends and receives. */
const bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('AT+QMTCFG=? (test form)', () => {
  it('lists all eighteen options in the manual order with concrete ranges, then OK', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG=?')).toBe(
      reply(
        '+QMTCFG: "version",(0-5),(3,4)',
        '+QMTCFG: "pdpcid",(0-5),(1-15)',
        '+QMTCFG: "ssl",(0-5),(0,1),(0-5)',
        '+QMTCFG: "keepalive",(0-5),(0-3600)',
        '+QMTCFG: "session",(0-5),(0,1)',
        '+QMTCFG: "timeout",(0-5),(1-60),(0-10),(0,1)',
        '+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage"',
        '+QMTCFG: "willex",(0-5),(0,1),(0-2),(0,1),"willtopic",(0-256)',
        '+QMTCFG: "recv/mode",(0-5),(0,1),(0,1)',
        '+QMTCFG: "aliauth",(0-5),"product key","device name","device secret"',
        '+QMTCFG: "qmtping",(0-5),(5-60)',
        '+QMTCFG: "send/mode",(0-5),(0,1)',
        '+QMTCFG: "onenet",(0-5),"product id","access key"',
        '+QMTCFG: "hwauth",(0-5),"product id","device secret"',
        '+QMTCFG: "hwprodid",(0-5),"product id","product secret","nodeid"',
        '+QMTCFG: "dataformat",(0-5),(0,1),(0,1)',
        '+QMTCFG: "view/mode",(0-5),(0,1)',
        '+QMTCFG: "edit/timeout",(0-5),(0,1),(1-120)',
      ),
    );
  });

  it('has no read or exec form', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG?')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG')).toBe(ERROR);
  });
});

describe('AT+QMTCFG="<option>",<client_idx> (query form)', () => {
  const defaults: [option: string, values: string][] = [
    ['version', '4'],
    ['pdpcid', '1'],
    ['ssl', '0,0'],
    ['keepalive', '120'],
    ['session', '1'],
    ['timeout', '5,3,0'],
    ['will', '0'],
    ['willex', '0'],
    ['recv/mode', '0,0'],
    ['aliauth', '"","",""'],
    ['qmtping', '5'],
    ['send/mode', '0'],
    ['onenet', '"",""'],
    ['hwauth', '"",""'],
    ['hwprodid', '"","",""'],
    ['dataformat', '0,0'],
    ['view/mode', '0'],
    ['edit/timeout', '0,60'],
  ];

  it.each(defaults)('reports the power-on value of "%s"', async (option, values) => {
    const m = modem();
    expect(await m.at(`AT+QMTCFG="${option}",0`)).toBe(reply(`+QMTCFG: "${option}",${values}`));
    expect(await m.at(`AT+QMTCFG="${option}",5`)).toBe(reply(`+QMTCFG: "${option}",${values}`));
  });

  it('answers ERROR without a client index, for index 6 and for a non-integer index', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="version"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="version",6')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="version",-1')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="version","0"')).toBe(ERROR);
  });
});

describe('AT+QMTCFG="<option>",<client_idx>,<values> (set form)', () => {
  const roundTrips: [set: string, query: string][] = [
    ['"version",0,3', '"version",3'],
    ['"pdpcid",0,15', '"pdpcid",15'],
    ['"ssl",0,1,2', '"ssl",1,2'],
    ['"keepalive",0,0', '"keepalive",0'],
    ['"keepalive",0,3600', '"keepalive",3600'],
    ['"session",0,0', '"session",0'],
    ['"timeout",0,60,10,1', '"timeout",60,10,1'],
    ['"timeout",0,1,0,0', '"timeout",1,0,0'],
    ['"will",0,1,2,1,"dev/lwt","gone"', '"will",1,2,1,"dev/lwt","gone"'],
    ['"will",0,1,0,0,"t",""', '"will",1,0,0,"t",""'],
    ['"recv/mode",0,1,1', '"recv/mode",1,1'],
    ['"aliauth",0,"pk","dn","ds"', '"aliauth","pk","dn","ds"'],
    ['"qmtping",0,60', '"qmtping",60'],
    ['"send/mode",0,1', '"send/mode",1'],
    ['"onenet",0,"123456","a2V5"', '"onenet","123456","a2V5"'],
    ['"hwauth",0,"pid","secret"', '"hwauth","pid","secret"'],
    ['"hwprodid",0,"pid","psecret","node1"', '"hwprodid","pid","psecret","node1"'],
    ['"dataformat",0,1,1', '"dataformat",1,1'],
    ['"view/mode",0,1', '"view/mode",1'],
    ['"edit/timeout",0,1,120', '"edit/timeout",1,120'],
  ];

  it.each(roundTrips)('AT+QMTCFG=%s → OK, then the query reports +QMTCFG: %s', async (set, query) => {
    const m = modem();
    expect(await m.at(`AT+QMTCFG=${set}`)).toBe(OK);
    const option = set.slice(0, set.indexOf(',', 1));
    expect(await m.at(`AT+QMTCFG=${option},0`)).toBe(reply(`+QMTCFG: ${query}`));
  });

  it('accepts the manual §5.1 lines', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="recv/mode",0,0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="aliauth",0,"oyjtmPI5a5j","MQTT_TEST","wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="recv/mode",0')).toBe(reply('+QMTCFG: "recv/mode",0,1'));
    expect(await m.at('AT+QMTCFG="aliauth",0')).toBe(
      reply('+QMTCFG: "aliauth","oyjtmPI5a5j","MQTT_TEST","wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"'),
    );
  });

  it('matches the option name case-insensitively (§5.2 "SSL") and replies in lower case', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="SSL",0,1,2')).toBe(OK);
    expect(await m.at('AT+QMTCFG="Ssl",0')).toBe(reply('+QMTCFG: "ssl",1,2'));
    expect(await m.at('AT+QMTCFG="RECV/MODE",0,1')).toBe(OK);
    expect(await m.at('at+qmtcfg="recv/mode",0')).toBe(reply('+QMTCFG: "recv/mode",1,0'));
  });

  it('keeps the previous value of an omitted optional parameter', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="ssl",0,1,3')).toBe(OK);
    expect(await m.at('AT+QMTCFG="ssl",0,0')).toBe(OK);
    expect(await m.at('AT+QMTCFG="ssl",0')).toBe(reply('+QMTCFG: "ssl",0,3'));
    expect(await m.at('AT+QMTCFG="recv/mode",0,0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="recv/mode",0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="recv/mode",0')).toBe(reply('+QMTCFG: "recv/mode",1,1'));
    expect(await m.at('AT+QMTCFG="edit/timeout",0,1,30')).toBe(OK);
    expect(await m.at('AT+QMTCFG="edit/timeout",0,0')).toBe(OK);
    expect(await m.at('AT+QMTCFG="edit/timeout",0')).toBe(reply('+QMTCFG: "edit/timeout",0,30'));
  });

  it('configures each client separately', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="keepalive",5,30')).toBe(OK);
    expect(await m.at('AT+QMTCFG="keepalive",5')).toBe(reply('+QMTCFG: "keepalive",30'));
    expect(await m.at('AT+QMTCFG="keepalive",0')).toBe(reply('+QMTCFG: "keepalive",120'));
  });

  it('treats "send/mode" and the <send_mode> of "dataformat" as one setting', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="send/mode",0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="dataformat",0')).toBe(reply('+QMTCFG: "dataformat",1,0'));
    expect(await m.at('AT+QMTCFG="dataformat",0,0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="send/mode",0')).toBe(reply('+QMTCFG: "send/mode",0'));
    expect(await m.at('AT+QMTCFG="dataformat",0')).toBe(reply('+QMTCFG: "dataformat",0,1'));
  });

  it('disables the will with <will_fg> 0, ignoring (but checking) any further values', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="will",0,1,1,1,"t","m"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0,0')).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply('+QMTCFG: "will",0'));
    expect(await m.at('AT+QMTCFG="will",0,0,1,0,"t","m"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply('+QMTCFG: "will",0'));
    expect(await m.at('AT+QMTCFG="will",0,0,3')).toBe(ERROR);
  });

  it('needs <will_qos>, <will_retain>, <willtopic> and <willmessage> with <will_fg> 1', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="will",0,1')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="will",0,1,0,0,"t"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="will",0,1,0,0,,"m"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply('+QMTCFG: "will",0'));
  });

  it('holds <willtopic> to 1–256 bytes and <willmessage> to 0–256 bytes', async () => {
    const m = modem();
    const t256 = 't'.repeat(256);
    const m256 = 'm'.repeat(256);
    expect(await m.at(`AT+QMTCFG="will",0,1,0,0,"${t256}","${m256}"`)).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply(`+QMTCFG: "will",1,0,0,"${t256}","${m256}"`));
    expect(await m.at(`AT+QMTCFG="will",0,1,0,0,"${t256}t","m"`)).toBe(ERROR);
    expect(await m.at(`AT+QMTCFG="will",0,1,0,0,"t","${m256}m"`)).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="will",0,1,0,0,"","m"')).toBe(ERROR);
  });

  it('passes UTF-8 topics and will messages through byte for byte, and refuses a topic that is not UTF-8', async () => {
    const m = modem();
    const topic = bytes('设备/遗嘱');
    const message = bytes('离线 ✓');
    expect(await m.at(`AT+QMTCFG="will",0,1,1,0,"${topic}","${message}"`)).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply(`+QMTCFG: "will",1,1,0,"${topic}","${message}"`));
    expect(await m.at('AT+QMTCFG="will",0,1,1,0,"\xff\xfe","m"')).toBe(ERROR);
  });

  it('forgets a platform sign-in when all its strings are set empty', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="hwauth",0,"pid","secret"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="hwauth",0,"",""')).toBe(OK);
    expect(await m.at('AT+QMTCFG="hwauth",0')).toBe(reply('+QMTCFG: "hwauth","",""'));
  });

  it('needs every platform string', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="aliauth",0,"pk","dn"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="aliauth",0,"pk","dn",1')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="onenet",0,"pid"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="hwauth",0,"pid"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="hwprodid",0,"pid","ps"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="aliauth",0')).toBe(reply('+QMTCFG: "aliauth","","",""'));
  });

  const outOfRange: string[] = [
    '"version",0,2',
    '"version",0,5',
    '"version",0,0',
    '"pdpcid",0,0',
    '"pdpcid",0,16',
    '"ssl",0,2',
    '"ssl",0,-1',
    '"ssl",0,1,6',
    '"ssl",0,1,-1',
    '"keepalive",0,-1',
    '"keepalive",0,3601',
    '"session",0,2',
    '"timeout",0,0,3,0',
    '"timeout",0,61,3,0',
    '"timeout",0,5,-1,0',
    '"timeout",0,5,11,0',
    '"timeout",0,5,3,2',
    '"will",0,2',
    '"will",0,1,3,0,"t","m"',
    '"will",0,1,-1,0,"t","m"',
    '"will",0,1,0,2,"t","m"',
    '"willex",0,2',
    '"willex",0,1,3,0,"t",1',
    '"willex",0,1,0,2,"t",1',
    '"willex",0,1,0,0,"t",257',
    '"willex",0,1,0,0,"t",-1',
    '"recv/mode",0,2',
    '"recv/mode",0,0,2',
    '"qmtping",0,4',
    '"qmtping",0,61',
    '"send/mode",0,2',
    '"dataformat",0,2,0',
    '"dataformat",0,0,2',
    '"view/mode",0,2',
    '"edit/timeout",0,2',
    '"edit/timeout",0,1,0',
    '"edit/timeout",0,1,121',
  ];

  it.each(outOfRange)('answers ERROR to the out-of-range AT+QMTCFG=%s and keeps the old value', async (args) => {
    const m = modem();
    const option = args.slice(0, args.indexOf(','));
    const before = await m.at(`AT+QMTCFG=${option},0`);
    expect(await m.at(`AT+QMTCFG=${args}`)).toBe(ERROR);
    expect(await m.at(`AT+QMTCFG=${option},0`)).toBe(before);
  });

  const malformed: [what: string, line: string][] = [
    ['an unknown option', 'AT+QMTCFG="bogus",0'],
    ['an unknown option with values', 'AT+QMTCFG="bogus",0,1'],
    ['an unquoted option name', 'AT+QMTCFG=version,0'],
    ['a number for the option name', 'AT+QMTCFG=1,0'],
    ['no arguments', 'AT+QMTCFG='],
    ['client_idx 6 in a set', 'AT+QMTCFG="keepalive",6,60'],
    ['an empty value', 'AT+QMTCFG="keepalive",0,'],
    ['an extra value', 'AT+QMTCFG="keepalive",0,60,1'],
    ['an extra ssl value', 'AT+QMTCFG="ssl",0,1,2,3'],
    ['a string for an integer', 'AT+QMTCFG="keepalive",0,"60"'],
    ['a hex integer', 'AT+QMTCFG="keepalive",0,0x3C'],
    ['an integer for a string', 'AT+QMTCFG="onenet",0,123,"key"'],
    ['two of the three timeout values', 'AT+QMTCFG="timeout",0,5,3'],
    ['one of the two dataformat values', 'AT+QMTCFG="dataformat",0,1'],
    ['an extra will value', 'AT+QMTCFG="will",0,1,0,0,"t","m",1'],
    ['willex <will_fg> 1 without <will_len>', 'AT+QMTCFG="willex",0,1,0,0,"t"'],
  ];

  it.each(malformed)('answers a plain ERROR to %s', async (_what, line) => {
    const m = modem();
    await m.at('AT+CMEE=2');
    expect(await m.at(line)).toBe(ERROR);
  });
});

describe('AT+QMTCFG="willex" (will message input)', () => {
  it('prompts, takes exactly <will_len> bytes, and hands what follows back to the command parser', async () => {
    const m = modem();
    m.clear();
    m.send('AT+QMTCFG="willex",0,1,1,1,"dev/will",5\r');
    expect(await m.waitFor('\r\n> ')).toBe('\r\n> ');
    m.send('helloAT\r');
    expect(await m.waitFor(/OK\r\n\r\nOK\r\n$/)).toBe(`\r\n> ${OK}${OK}`);
    expect(await m.at('AT+QMTCFG="willex",0')).toBe(reply('+QMTCFG: "willex",1,1,1,"dev/will",5'));
    expect(await m.at('AT')).toBe(OK);
  });

  it('takes its input fragmented into single bytes, binary included', async () => {
    const m = modem();
    m.clear();
    const line = Buffer.from('AT+QMTCFG="willex",1,1,2,0,"w",4\r', 'latin1');
    for (const b of line) m.send(Buffer.of(b));
    await m.waitFor('\r\n> ');
    for (const b of [0x00, 0x0d, 0x1a, 0xff]) m.send(Buffer.of(b));
    expect(await m.waitFor(OK)).toBe(`\r\n> ${OK}`);
    expect(await m.at('AT+QMTCFG="willex",1')).toBe(reply('+QMTCFG: "willex",1,2,0,"w",4'));
  });

  it('answers OK at once for <will_len> 0', async () => {
    const m = modem();
    m.clear();
    m.send('AT+QMTCFG="willex",0,1,0,0,"w",0\r');
    expect(await m.waitFor(OK)).toBe(`\r\n> ${OK}`);
    expect(await m.at('AT+QMTCFG="willex",0')).toBe(reply('+QMTCFG: "willex",1,0,0,"w",0'));
  });

  it('echoes the input when view/mode is 1', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="view/mode",0,1')).toBe(OK);
    m.clear();
    m.send('AT+QMTCFG="willex",0,1,0,0,"w",3\r');
    await m.waitFor('\r\n> ');
    m.send('bye');
    expect(await m.waitFor(OK)).toBe(`\r\n> bye${OK}`);
  });

  it('disables the will with <will_fg> 0 without a prompt', async () => {
    const m = modem();
    m.clear();
    m.send('AT+QMTCFG="willex",0,1,0,0,"w",2\r');
    await m.waitFor('\r\n> ');
    m.send('hi');
    await m.waitFor(OK);
    expect(await m.at('AT+QMTCFG="willex",0,0')).toBe(OK);
    expect(await m.at('AT+QMTCFG="willex",0')).toBe(reply('+QMTCFG: "willex",0'));
  });

  it('answers ERROR and keeps the old will when input stops for the edit/timeout time', async () => {
    const m = modem();
    expect(await m.at('AT+QMTCFG="edit/timeout",0,1,1')).toBe(OK);
    m.clear();
    m.send('AT+QMTCFG="willex",0,1,0,0,"w",10\r');
    await m.waitFor('\r\n> ');
    m.send('abc');
    expect(await m.waitFor(ERROR, 3000)).toBe(`\r\n> ${ERROR}`);
    expect(await m.at('AT+QMTCFG="willex",0')).toBe(reply('+QMTCFG: "willex",0'));
    expect(await m.at('AT')).toBe(OK);
  });
});

describe('AT+QMTCFG while an MQTT connection exists', () => {
  it('refuses values from AT+QMTCONN until AT+QMTDISC, except "willex"; queries still answer', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    brokers.push(broker);
    const m = modem({ brokerPort: broker.port });

    expect(await m.at('AT+QMTOPEN=0,"x",1883')).toBe(OK);
    await m.waitFor('+QMTOPEN: 0,0');
    // Network open, no MQTT connection yet: settings are still accepted.
    expect(await m.at('AT+QMTCFG="keepalive",0,30')).toBe(OK);

    expect(await m.at('AT+QMTCONN=0,"c"')).toBe(OK);
    await m.waitFor('+QMTCONN: 0,0,0');
    expect(await m.at('AT+QMTCFG="keepalive",0,60')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="SSL",0,1,2')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="will",0,0')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="aliauth",0,"pk","dn","ds"')).toBe(ERROR);
    expect(await m.at('AT+QMTCFG="keepalive",0')).toBe(reply('+QMTCFG: "keepalive",30'));
    // Other clients are not connected.
    expect(await m.at('AT+QMTCFG="keepalive",1,60')).toBe(OK);

    m.clear();
    m.send('AT+QMTCFG="willex",0,1,0,0,"w",2\r');
    await m.waitFor('\r\n> ');
    m.send('hi');
    expect(await m.waitFor(OK)).toBe(`\r\n> ${OK}`);

    expect(await m.at('AT+QMTDISC=0')).toBe(OK);
    await m.waitFor('+QMTDISC: 0,0');
    expect(await m.at('AT+QMTCFG="keepalive",0,60')).toBe(OK);
    expect(await m.at('AT+QMTCFG="keepalive",0')).toBe(reply('+QMTCFG: "keepalive",60'));
  });
});

describe('AT+QMTCFG and the log', () => {
  it('records settings but never the platform secrets it stores', async () => {
    const records: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) records.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const port = new MemoryPort();
    const log = pino({ level: 'debug' }, sink);
    const mo = new Modem({
      profile: loadProfile('quectel-ec200'),
      port,
      log,
      links: brokerLinkOpener({ plain: { host: '127.0.0.1', port: 1 } }, log),
      commandSets: COMMAND_SETS,
      timing: 'fast',
      bootUrcs: false,
    });
    mo.engine.settings.echo = false;
    const done = () => new Promise<void>((resolve) => {
      const off = port.host.onData(() => {
        if (/\r\n(OK|ERROR)\r\n$/.test(port.host.received.toString('latin1'))) {
          off();
          resolve();
        }
      });
    });
    try {
      for (const line of [
        'AT+QMTCFG="keepalive",0,77',
        'AT+QMTCFG="aliauth",0,"pk","dn","S3cr3tDev"',
        'AT+QMTCFG="onenet",0,"pid","S3cr3tKey"',
        'AT+QMTCFG="hwprodid",0,"pid","S3cr3tProd","node"',
      ]) {
        port.host.clear();
        const d = done();
        port.host.send(`${line}\r`);
        await d;
      }
      await new Promise((r) => setTimeout(r, 20));
      const mine = records.filter((r) => r.component === 'qmt' && r.option !== undefined);
      expect(mine.map((r) => r.option)).toEqual(['keepalive', 'aliauth', 'onenet', 'hwprodid']);
      expect(mine[0]).toMatchObject({ client: 0, values: [77] });
      expect(JSON.stringify(mine)).not.toContain('S3cr3t');
    } finally {
      await mo.stop();
    }
  });
});
