/**
 * AT+QMTCFG on the BC260Y-CN profile (manual §3.3.1): its own nine options, encodings, power-on
 * values and error codes — exact response bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Packet } from 'mqtt-packet';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';
import { startFakeBroker, type FakeBroker } from '../mqtt/fake-broker.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;

const modems: MemoryModem[] = [];
const fakes: FakeBroker[] = [];

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(fakes.splice(0).map((b) => b.close()));
});

async function modem(opts: { brokerPort?: number; cmee?: 0 | 1 | 2 } = {}): Promise<MemoryModem> {
  const m = createMemoryModem('quectel-bc260y', { brokerPort: opts.brokerPort });
  modems.push(m);
  if (opts.cmee !== undefined) expect(await m.at(`AT+CMEE=${opts.cmee}`)).toBe(OK);
  return m;
}

describe('AT+QMTCFG=? (test form)', () => {
  it('lists the nine BC260Y options of §3.3.1 with client range 0-4, then OK', async () => {
    const m = await modem();
    expect(await m.at('AT+QMTCFG=?')).toBe(
      reply(
        '+QMTCFG: "will",(0-4),(0,1),(0-2),(0,1),<will_topic>,<will_msg>',
        '+QMTCFG: "timeout",(0-4),(1-60),(0-10),(0,1)',
        '+QMTCFG: "session",(0-4),(0,1)',
        '+QMTCFG: "keepalive",(0-4),(0-3600)',
        '+QMTCFG: "aliauth",(0-4),<product_key>,<device_name>,<device_secret>',
        '+QMTCFG: "version",(0-4),(0,1)',
        '+QMTCFG: "showrecvlen",(0-4),(0,1)',
        '+QMTCFG: "echomode",(0-4),(0,1)',
        '+QMTCFG: "dataformat",(0-4),(0,1),(0,1)',
      ),
    );
  });
});

describe('AT+QMTCFG="<option>",<TCP_connectID> (query form)', () => {
  const defaults: [option: string, values: string][] = [
    ['will', '0'],
    ['timeout', '30,0,0'],
    ['session', '1'],
    ['keepalive', '120'],
    ['version', '1'],
    ['showrecvlen', '0'],
    ['echomode', '1'],
    ['dataformat', '0,0'],
  ];

  it.each(defaults)('reports the power-on value of "%s" without the option name', async (option, values) => {
    const m = await modem();
    expect(await m.at(`AT+QMTCFG="${option}",0`)).toBe(reply(`+QMTCFG: ${values}`));
    expect(await m.at(`AT+QMTCFG="${option}",4`)).toBe(reply(`+QMTCFG: ${values}`));
  });

  it('prints nothing for "aliauth" until a device is configured (note 4)', async () => {
    const m = await modem();
    expect(await m.at('AT+QMTCFG="aliauth",0')).toBe(OK);
    expect(await m.at('AT+QMTCFG="aliauth",0,"pk","dn","ds"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="aliauth",0')).toBe(reply('+QMTCFG: "pk","dn","ds"'));
    expect(await m.at('AT+QMTCFG="aliauth",1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="aliauth",0,"","",""')).toBe(OK);
    expect(await m.at('AT+QMTCFG="aliauth",0')).toBe(OK);
  });

  it('refuses index 5 (the EC200 has six clients, this module five) with 8507', async () => {
    const m = await modem({ cmee: 1 });
    expect(await m.at('AT+QMTCFG="version",5')).toBe(cme(8507));
    expect(await m.at('AT+QMTCFG="version"')).toBe(cme(8507));
    expect(await m.at('AT')).toBe(OK);
  });
});

describe('AT+QMTCFG="<option>",<TCP_connectID>,<values> (set form)', () => {
  const roundTrips: [set: string, query: string, value: string][] = [
    ['"will",0,1,2,1,"dev/lwt","gone"', '"will",0', '1,2,1,"dev/lwt","gone"'],
    ['"will",0,1,0,0,"t",""', '"will",0', '1,0,0,"t",""'],
    ['"timeout",0,60,10,1', '"timeout",0', '60,10,1'],
    ['"timeout",0,1', '"timeout",0', '1,0,0'],
    ['"timeout",0,,3', '"timeout",0', '30,3,0'],
    ['"timeout",0,,,1', '"timeout",0', '30,0,1'],
    ['"session",0,0', '"session",0', '0'],
    ['"keepalive",0,0', '"keepalive",0', '0'],
    ['"keepalive",0,3600', '"keepalive",0', '3600'],
    ['"version",0,0', '"version",0', '0'],
    ['"showrecvlen",0,1', '"showrecvlen",0', '1'],
    ['"echomode",0,0', '"echomode",0', '0'],
    ['"dataformat",0,1,1', '"dataformat",0', '1,1'],
    ['"DataFormat",0,0,1', '"dataformat",0', '0,1'],
  ];

  it.each(roundTrips)('AT+QMTCFG=%s answers OK and reads back', async (set, query, value) => {
    const m = await modem();
    expect(await m.at(`AT+QMTCFG=${set}`)).toBe(OK);
    expect(await m.at(`AT+QMTCFG=${query}`)).toBe(reply(`+QMTCFG: ${value}`));
    // Each index keeps its own settings.
    expect(await m.at(`AT+QMTCFG=${query.replace(',0', ',1')}`)).not.toBe(reply(`+QMTCFG: ${value}`));
  });

  it('clears the will with <will_fg> 0 and ignores the values after it (note 1)', async () => {
    const m = await modem();
    await m.at('AT+QMTCFG="will",0,1,1,0,"a","b"');
    expect(await m.at('AT+QMTCFG="will",0,0,1,1,"x","y"')).toBe(OK);
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply('+QMTCFG: 0'));
  });

  const invalid: [set: string, why: string][] = [
    ['"version",0,3', 'the EC200 encoding 3/4 is not this module’s 0/1'],
    ['"version",0,4', 'the EC200 encoding 3/4 is not this module’s 0/1'],
    ['"timeout",0,0', '<pkttimeout> below 1'],
    ['"timeout",0,61', '<pkttimeout> above 60'],
    ['"timeout",0,30,11', '<retry_times> above 10'],
    ['"timeout",0,30,0,2', '<timeout_notice> not 0/1'],
    ['"timeout",0,,', 'no value at all'],
    ['"keepalive",0,3601', '<keep-alive_time> above 3600'],
    ['"session",0,2', '<clean_session> not 0/1'],
    ['"showrecvlen",0,2', '<show_flag> not 0/1'],
    ['"echomode",0,2', '<echo_mode> not 0/1'],
    ['"dataformat",0,1', 'dataformat needs both formats'],
    ['"aliauth",0,"pk","dn"', 'aliauth needs three strings'],
    ['"will",0,1,1,0,"t"', '<will_fg> 1 without <will_msg> (note 1)'],
    ['"will",0,1,3,0,"t","m"', '<will_qos> above 2'],
    ['"will",0,1,1,0,"",""', 'an empty will topic'],
    [`"will",0,1,1,0,"${'t'.repeat(257)}","m"`, '<will_topic> over 256 bytes'],
    [`"will",0,1,1,0,"t","${'m'.repeat(257)}"`, '<will_msg> over 256 bytes'],
    ['"ssl",0,1', 'an EC200 option this module does not have'],
    ['"recv/mode",0,0,1', 'an EC200 option this module does not have'],
    ['"view/mode",0,1', 'an EC200 option this module does not have'],
    ['"version",5,1', 'client index 5'],
    ['version,0,1', 'an unquoted option name'],
  ];

  it.each(invalid)('AT+QMTCFG=%s answers +CME ERROR: 8507 (%s), then AT works', async (set) => {
    const m = await modem({ cmee: 1 });
    expect(await m.at(`AT+QMTCFG=${set}`)).toBe(cme(8507));
    expect(await m.at('AT')).toBe(OK);
  });

  it('answers 8505 for a wildcard in the will topic and 8506 for bytes that are not UTF-8', async () => {
    const m = await modem({ cmee: 1 });
    expect(await m.at('AT+QMTCFG="will",0,1,1,0,"dev/+","m"')).toBe(cme(8505));
    expect(await m.at('AT+QMTCFG="will",0,1,1,0,"dev/\xff","m"')).toBe(cme(8506));
    expect(await m.at('AT+QMTCFG="aliauth",0,"p\xc3","d","s"')).toBe(cme(8506));
    expect(await m.at('AT+QMTCFG="will",0')).toBe(reply('+QMTCFG: 0'));
  });

  it('renders errors per AT+CMEE: ERROR at power-on (CMEE 0), the manual’s text with CMEE 2', async () => {
    const m = await modem();
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 0'));
    expect(await m.at('AT+QMTCFG="keepalive",0,9999')).toBe(ERROR);
    expect(await m.at('AT+CMEE=2')).toBe(OK);
    expect(await m.at('AT+QMTCFG="keepalive",0,9999')).toBe('\r\n+CME ERROR: MQTT invalid parameter\r\n');
  });
});

describe('settings at CONNECT', () => {
  async function connectAndCapture(m: MemoryModem, fake: FakeBroker): Promise<Packet & { cmd: 'connect' }> {
    expect(await m.at('AT+QMTOPEN=0,"broker.example.com",1883')).toBe(OK);
    await m.waitFor('+QMTOPEN: 0,0\r\n');
    expect(await m.at('AT+QMTCONN=0,"dev1","user","pw"')).toBe(OK);
    await m.waitFor('+QMTCONN: 0,0,0\r\n');
    const connect = fake.received.find((p) => p.cmd === 'connect');
    expect(connect).toBeDefined();
    return connect as Packet & { cmd: 'connect' };
  }

  it('sends MQTT 3.1.1, keepalive 120 and a clean session at power-on', async () => {
    const fake = await startFakeBroker();
    fakes.push(fake);
    const m = await modem({ brokerPort: fake.port });
    const c = await connectAndCapture(m, fake);
    expect({ id: c.protocolId, v: c.protocolVersion, keepalive: c.keepalive, clean: c.clean, will: c.will }).toEqual({
      id: 'MQTT',
      v: 4,
      keepalive: 120,
      clean: true,
      will: undefined,
    });
  });

  it('sends MQTT 3.1 (MQIsdp) for <version_num> 0, the keepalive, session and will that were set', async () => {
    const fake = await startFakeBroker();
    fakes.push(fake);
    const m = await modem({ brokerPort: fake.port });
    for (const line of [
      'AT+QMTCFG="version",0,0',
      'AT+QMTCFG="keepalive",0,0',
      'AT+QMTCFG="session",0,0',
      'AT+QMTCFG="will",0,1,1,1,"dev1/status","offline"',
    ]) {
      expect(await m.at(line)).toBe(OK);
    }
    const c = await connectAndCapture(m, fake);
    expect(c.protocolId).toBe('MQIsdp');
    expect(c.protocolVersion).toBe(3);
    expect(c.keepalive).toBe(0);
    expect(c.clean).toBe(false);
    expect(c.will?.topic).toBe('dev1/status');
    expect(Buffer.from(c.will!.payload).toString()).toBe('offline');
    expect(c.will?.qos).toBe(1);
    expect(c.will?.retain).toBe(true);
  });

  it('accepts settings while connected (they take effect immediately, "立即生效")', async () => {
    const fake = await startFakeBroker();
    fakes.push(fake);
    const m = await modem({ brokerPort: fake.port });
    await connectAndCapture(m, fake);
    expect(await m.at('AT+QMTCFG="keepalive",0,60')).toBe(OK);
    expect(await m.at('AT+QMTCFG="showrecvlen",0,1')).toBe(OK);
    expect(await m.at('AT+QMTCFG="showrecvlen",0')).toBe(reply('+QMTCFG: 1'));
  });
});
