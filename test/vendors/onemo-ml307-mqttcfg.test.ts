/**
 * AT+MQTTCFG on the onemo-ml307 profile (OneMO MQTT manual §3.1), the module's identity and its
 * error rendering (§2.2, §5): exact response bytes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { startSilentServer } from '../mqtt/fake-broker.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;

const modems: MemoryModem[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function modem(brokerPort?: number): MemoryModem {
  const m = createMemoryModem('onemo-ml307', { brokerPort });
  modems.push(m);
  return m;
}

async function broker(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  cleanups.push(() => b.close());
  return b;
}

const DEFAULTS = [
  '+MQTTCFG: "version",4',
  '+MQTTCFG: "cid",1',
  '+MQTTCFG: "ssl",0,0',
  '+MQTTCFG: "keepalive",120',
  '+MQTTCFG: "clean",0',
  '+MQTTCFG: "retrans",20,0',
  '+MQTTCFG: "willoption",0,0,0',
  '+MQTTCFG: "willpayload"',
  '+MQTTCFG: "pingreq",120',
  '+MQTTCFG: "pingresp",0',
  '+MQTTCFG: "encoding",0,0',
  '+MQTTCFG: "cached",0',
  '+MQTTCFG: "reconn",3,20,0',
];

describe('identity and error rendering', () => {
  it('identifies as an ML307R built by Mobiletek', async () => {
    const m = modem();
    expect(await m.at('AT+CGMI')).toBe(reply('Mobiletek'));
    expect(await m.at('AT+CGMM')).toBe(reply('ML307R-DC'));
    expect(await m.at('AT+CGMR')).toBe(reply('ML307R-DC-MBRH0S01'));
    expect(await m.at('ATI')).toBe(reply('Mobiletek', 'ML307R-DC', 'Revision: ML307R-DC-MBRH0S01'));
  });

  it('reports errors as numeric +CME ERROR by default, verbose with AT+CMEE=2, plain ERROR with AT+CMEE=0', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 1'));
    expect(await m.at('AT+MQTTCFG="version",0,3')).toBe(cme(601));
    expect(await m.at('AT+CMEE=2')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="version",0,3')).toBe('\r\n+CME ERROR: invalid parameter\r\n');
    expect(await m.at('AT+MQTTDISC=0')).toBe('\r\n+CME ERROR: not connected or connection failed\r\n');
    expect(await m.at('AT+CMEE=0')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="version",0,3')).toBe(ERROR);
  });

  it('answers ERROR to an unknown command and to undocumented forms, then AT answers OK', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTFOO=0')).toBe(ERROR);
    expect(await m.at('AT+MQTTCFG?')).toBe(ERROR);
    expect(await m.at('AT+MQTTSTATE')).toBe(ERROR);
    expect(await m.at('AT+MQTTPUB?')).toBe(ERROR);
    expect(await m.at('AT')).toBe(OK);
  });
});

describe('AT+MQTTCFG=? (test form)', () => {
  it('lists the thirteen options in the manual order with the ML307R ranges', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTCFG=?')).toBe(
      reply(
        '+MQTTCFG: "version",(0-5),(4)',
        '+MQTTCFG: "cid",(0-5),(1-15)',
        '+MQTTCFG: "ssl",(0-5),(0,1),(0-5)',
        '+MQTTCFG: "keepalive",(0-5),(0,60-65535)',
        '+MQTTCFG: "clean",(0-5),(0,1)',
        '+MQTTCFG: "retrans",(0-5),(20-60),(0-3)',
        '+MQTTCFG: "willoption",(0-5),(0,1),(0-2),(0,1)',
        '+MQTTCFG: "willpayload",(0-5),,',
        '+MQTTCFG: "pingreq",(0-5),(60-86400)',
        '+MQTTCFG: "pingresp",(0-5),(0,1)',
        '+MQTTCFG: "encoding",(0-5),(0-2),(0,1)',
        '+MQTTCFG: "cached",(0-5),(0,1)',
        '+MQTTCFG: "reconn",(0-5),(0-3),(20-60),(0,1)',
      ),
    );
  });
});

describe('AT+MQTTCFG query forms', () => {
  it('"query" lists every setting at its power-on value', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTCFG="query",0')).toBe(reply(...DEFAULTS));
  });

  it('answers each option alone, as §3.1\'s example `AT+MQTTCFG="encoding",0` does', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTCFG="encoding",0')).toBe(reply('+MQTTCFG: "encoding",0,0'));
    for (const line of DEFAULTS) {
      const name = /"([a-z]+)"/.exec(line)![1];
      expect(await m.at(`AT+MQTTCFG="${name}",5`)).toBe(reply(line));
    }
  });

  it('refuses a missing, out-of-range or unquoted <connect_id> and unknown options with 601', async () => {
    const m = modem();
    expect(await m.at('AT+MQTTCFG="version"')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG="version",6')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG="query",-1')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG="query",0,1')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG="query"')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG=version,0')).toBe(cme(601));
    expect(await m.at('AT+MQTTCFG="timeout",0')).toBe(cme(601));
    expect(await m.at('AT')).toBe(OK);
  });
});

describe('AT+MQTTCFG set forms', () => {
  it('stores every option per client and reads it back', async () => {
    const m = modem();
    for (const line of [
      'AT+MQTTCFG="cid",1,15',
      'AT+MQTTCFG="ssl",1,1,5',
      'AT+MQTTCFG="keepalive",1,0',
      'AT+MQTTCFG="clean",1,1',
      'AT+MQTTCFG="retrans",1,60,3',
      'AT+MQTTCFG="willoption",1,1,2,1',
      'AT+MQTTCFG="willpayload",1,"dev/will","gone"',
      'AT+MQTTCFG="pingreq",1,86400',
      'AT+MQTTCFG="pingresp",1,1',
      'AT+MQTTCFG="encoding",1,2,1',
      'AT+MQTTCFG="cached",1,1',
      'AT+MQTTCFG="reconn",1,0,60,1',
      'AT+MQTTCFG="version",1,4',
    ]) {
      expect(await m.at(line), line).toBe(OK);
    }
    expect(await m.at('AT+MQTTCFG="query",1')).toBe(
      reply(
        '+MQTTCFG: "version",4',
        '+MQTTCFG: "cid",15',
        '+MQTTCFG: "ssl",1,5',
        '+MQTTCFG: "keepalive",0',
        '+MQTTCFG: "clean",1',
        '+MQTTCFG: "retrans",60,3',
        '+MQTTCFG: "willoption",1,2,1',
        '+MQTTCFG: "willpayload","dev/will","gone"',
        '+MQTTCFG: "pingreq",86400',
        '+MQTTCFG: "pingresp",1',
        '+MQTTCFG: "encoding",2,1',
        '+MQTTCFG: "cached",1',
        '+MQTTCFG: "reconn",0,60,1',
      ),
    );
    // Client 0 is untouched.
    expect(await m.at('AT+MQTTCFG="query",0')).toBe(reply(...DEFAULTS));
  });

  it('keeps the previous value of optional parameters left out', async () => {
    const m = modem();
    await m.at('AT+MQTTCFG="ssl",0,1,3');
    expect(await m.at('AT+MQTTCFG="ssl",0,0')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="ssl",0')).toBe(reply('+MQTTCFG: "ssl",0,3'));
    await m.at('AT+MQTTCFG="retrans",0,30,2');
    await m.at('AT+MQTTCFG="retrans",0,40');
    expect(await m.at('AT+MQTTCFG="retrans",0')).toBe(reply('+MQTTCFG: "retrans",40,2'));
    await m.at('AT+MQTTCFG="willoption",0,1,1,1');
    await m.at('AT+MQTTCFG="willoption",0,0');
    expect(await m.at('AT+MQTTCFG="willoption",0')).toBe(reply('+MQTTCFG: "willoption",0,1,1'));
    await m.at('AT+MQTTCFG="reconn",0,2,30,1');
    await m.at('AT+MQTTCFG="reconn",0,1');
    expect(await m.at('AT+MQTTCFG="reconn",0')).toBe(reply('+MQTTCFG: "reconn",1,30,1'));
    await m.at('AT+MQTTCFG="encoding",0,1,1');
    await m.at('AT+MQTTCFG="encoding",0,2');
    expect(await m.at('AT+MQTTCFG="encoding",0')).toBe(reply('+MQTTCFG: "encoding",2,1'));
  });

  it('refuses values outside the manual ranges with 601 and keeps the old value', async () => {
    const m = modem();
    for (const line of [
      'AT+MQTTCFG="version",0,3', // note 3: only 4
      'AT+MQTTCFG="version",0,5',
      'AT+MQTTCFG="cid",0,0',
      'AT+MQTTCFG="cid",0,16',
      'AT+MQTTCFG="ssl",0,2',
      'AT+MQTTCFG="ssl",0,1,6',
      'AT+MQTTCFG="keepalive",0,59',
      'AT+MQTTCFG="keepalive",0,1',
      'AT+MQTTCFG="keepalive",0,65536',
      'AT+MQTTCFG="clean",0,2',
      'AT+MQTTCFG="retrans",0,19',
      'AT+MQTTCFG="retrans",0,61',
      'AT+MQTTCFG="retrans",0,20,4',
      'AT+MQTTCFG="willoption",0,1,3',
      'AT+MQTTCFG="willoption",0,1,0,2',
      'AT+MQTTCFG="willpayload",0,"t"',
      `AT+MQTTCFG="willpayload",0,"${'t'.repeat(257)}","m"`,
      `AT+MQTTCFG="willpayload",0,"t","${'m'.repeat(257)}"`,
      'AT+MQTTCFG="pingreq",0,59',
      'AT+MQTTCFG="pingreq",0,86401',
      'AT+MQTTCFG="pingresp",0,2',
      'AT+MQTTCFG="encoding",0,3',
      'AT+MQTTCFG="encoding",0,0,2',
      'AT+MQTTCFG="cached",0,2',
      'AT+MQTTCFG="reconn",0,4',
      'AT+MQTTCFG="reconn",0,1,19',
      'AT+MQTTCFG="reconn",0,1,20,2',
      'AT+MQTTCFG="pingresp",0,1,1',
      'AT+MQTTCFG="keepalive",0,"60"',
      'AT+MQTTCFG="keepalive",0,',
    ]) {
      expect(await m.at(line), line).toBe(cme(601));
    }
    expect(await m.at('AT+MQTTCFG="query",0')).toBe(reply(...DEFAULTS));
    expect(await m.at('AT')).toBe(OK);
  });

  it('converts <will_msg> with the input encoding in force and keeps it as typed for the query', async () => {
    const m = modem();
    await m.at('AT+MQTTCFG="encoding",0,1');
    expect(await m.at('AT+MQTTCFG="willpayload",0,"w","6F6666"')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="willpayload",0')).toBe(reply('+MQTTCFG: "willpayload","w","6F6666"'));
    expect(await m.at('AT+MQTTCFG="willpayload",0,"w","6F666"')).toBe(cme(601));
    // 256 bytes after conversion are allowed: 512 hex digits.
    expect(await m.at(`AT+MQTTCFG="willpayload",0,"w","${'AB'.repeat(256)}"`)).toBe(OK);
    expect(await m.at(`AT+MQTTCFG="willpayload",0,"w","${'AB'.repeat(257)}"`)).toBe(cme(601));
  });

  it('refuses connection settings while connecting (603) and connected (604); pingresp, encoding and cached change at any time', async () => {
    const b = await broker();
    const m = modem(b.port);
    expect(await m.at('AT+MQTTCONN=0,"h",1883,"cfg-1"')).toBe(OK);
    await m.waitFor('+MQTTURC: "conn",0,0');
    for (const line of [
      'AT+MQTTCFG="version",0,4',
      'AT+MQTTCFG="cid",0,1',
      'AT+MQTTCFG="ssl",0,0',
      'AT+MQTTCFG="keepalive",0,60',
      'AT+MQTTCFG="clean",0,1',
      'AT+MQTTCFG="retrans",0,20',
      'AT+MQTTCFG="willoption",0,0',
      'AT+MQTTCFG="willpayload",0,"t","m"',
      'AT+MQTTCFG="pingreq",0,60',
      'AT+MQTTCFG="reconn",0,0',
    ]) {
      expect(await m.at(line), line).toBe(cme(604));
    }
    expect(await m.at('AT+MQTTCFG="pingresp",0,1')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="encoding",0,1,1')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="cached",0,1')).toBe(OK);
    expect(await m.at('AT+MQTTCFG="keepalive",0')).toBe(reply('+MQTTCFG: "keepalive",120'));
    // Other clients are not connected.
    expect(await m.at('AT+MQTTCFG="keepalive",1,60')).toBe(OK);

    // A broker that never answers CONNECT keeps client 2 connecting.
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const m2 = modem(silent.port);
    expect(await m2.at('AT+MQTTCONN=2,"h"')).toBe(OK);
    expect(await m2.at('AT+MQTTCFG="keepalive",2,60')).toBe(cme(603));
    expect(await m2.at('AT+MQTTCFG="cached",2,1')).toBe(OK);
  });
});
