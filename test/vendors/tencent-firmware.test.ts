/**
 * Tencent details seen on real ESP8266 modules (issue 10 §4): the firmware build as a profile
 * setting (v2 default, v1, manual), `+TCMQTTDISCON,2` before the OK of AT+TCMQTTDISCONN, and
 * escaped AT+TCMQTTPUB / AT+TCMQTTPUBL data published unescaped, with the escaped characters a
 * profile setting. Evidence: Tencent's test reports (src/vendors/tencent/firmware.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';
import { cme, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const PID = 'S3EUVBRJLB';
const DN = 'test_device';
const DATA = `${PID}/${DN}/data`;
const PSK = 'ZHNkIGRzZCA=';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

interface Memory {
  m: MemoryModem;
  broker: EmbeddedBroker;
  published: BrokerPublish[];
}

/** The default tencent-qcloud profile on a memory modem, the in-memory broker and a TestClock. */
async function memoryTencent(): Promise<Memory> {
  const broker = await startEmbeddedBroker({ port: 0 });
  const m = createMemoryModem('tencent-qcloud', { broker: broker.aedes, clock: new TestClock() });
  stops.push(async () => {
    await m.stop();
    await broker.close();
  });
  const published: BrokerPublish[] = [];
  broker.onPublish((p) => published.push(p));
  return { m, broker, published };
}

async function connect(m: MemoryModem): Promise<void> {
  m.clear();
  m.send(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}"\r`);
  await m.waitFor('+TCDEVINFOSET:OK\r\n');
  m.clear();
  m.send('AT+TCMQTTCONN=1,5000,240,1,1\r');
  expect(await m.waitFor('+TCMQTTCONN:OK\r\n')).toBe(okThen('+TCMQTTCONN:OK'));
}

async function tc(opts: HarnessOptions): Promise<TencentHarness> {
  const h = await startTencent({ memory: true, clock: new TestClock(), ...opts });
  stops.push(() => h.stop());
  return h;
}

/** The profile with other settings of the Tencent set. */
function setting(values: Record<string, unknown>): HarnessOptions {
  return { tweak: (p) => void Object.assign(p.settings['tencent-qcloud'] as object, values) };
}

async function connectHarness(h: TencentHarness): Promise<void> {
  await h.exchange(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}"`, '+TCDEVINFOSET:OK\r\n');
  await h.exchange('AT+TCMQTTCONN=1,5000,240,1,1', '+TCMQTTCONN:OK\r\n');
  h.clear();
}

/** Tencent's test report payload (QCloud_IoT_AT_Test_Tool get_hub_test_long_msg): 300 random characters. */
function reportMessage(text: string): string {
  return `{"action":"test",\n    "time":1598000979,\n    "text":"${text}"}`;
}
const escapeQuoteComma = (s: string) => s.replace(/"/g, '\\"').replace(/,/g, '\\,');

describe('AT+TCMQTTDISCONN on real modules', () => {
  it('answers +TCMQTTDISCON,2 and then OK (firmware v2, the default)', async () => {
    const { m } = await memoryTencent();
    await connect(m);
    expect(await m.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    expect(await m.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE:0'));
  });

  it('answers the same on firmware v1, and OK alone with the manual\'s text', async () => {
    const v1 = await tc(setting({ firmware: 'v1' }));
    await connectHarness(v1);
    expect(await v1.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    const manual = await tc(setting({ firmware: 'manual' }));
    await connectHarness(manual);
    expect(await manual.at('AT+TCMQTTDISCONN')).toBe(OK);
  });

  it('is still refused when not connected (208), with no +TCMQTTDISCON line', async () => {
    const { m } = await memoryTencent();
    expect(await m.at('AT+TCMQTTDISCONN')).toBe(cme(208));
  });
});

describe('firmware build (settings.tencent-qcloud.firmware)', () => {
  it('v2 (default) prints the region and lists PRODUCT_REGION, as the v2.1.0 report shows', async () => {
    const { m } = await memoryTencent();
    expect(await m.at('AT+TCOTASET=?')).toBe(reply('+TCOTASET:1(ENABLE)/0(DISABLE),"FW_version"'));
    expect(await m.at('AT+TCPRDINFOSET=?')).toBe(reply('+TCPRDINFOSET:"TLS_MODE(1)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME","PRODUCT_REGION"'));
    m.send(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}"\r`);
    await m.waitFor('+TCDEVINFOSET:OK\r\n');
    expect(await m.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"${PID}","${DN}",116,"ap-guangzhou"`));
  });

  it('v2 keeps a region given as the last argument of AT+TCDEVINFOSET and AT+TCPRDINFOSET', async () => {
    const { m } = await memoryTencent();
    m.send(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}","ap-shanghai"\r`);
    await m.waitFor('+TCDEVINFOSET:OK\r\n');
    expect(await m.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"${PID}","${DN}",116,"ap-shanghai"`));
    m.clear();
    m.send(`AT+TCPRDINFOSET=1,"${PID}","c2VjcmV0","dev2","ap-shanghai"\r`);
    expect(await m.waitFor('+TCPRDINFOSET:OK\r\n')).toBe(okThen('+TCPRDINFOSET:OK'));
  });

  it('v1 prints the v1.2.0 formats: no region, no PRODUCT_REGION, a region argument is 204', async () => {
    const h = await tc(setting({ firmware: 'v1' }));
    expect(await h.at('AT+TCOTASET=?')).toBe(reply('+TCOTASET:1(ENABLE)/0(DISABLE),"FW_version"'));
    expect(await h.at('AT+TCPRDINFOSET=?')).toBe(reply('+TCPRDINFOSET:"TLS_MODE(1)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME"'));
    await h.exchange(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}"`, '+TCDEVINFOSET:OK\r\n');
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"${PID}","${DN}",116`));
    expect(await h.at(`AT+TCPRDINFOSET=1,"${PID}","c2VjcmV0","dev2","ap-shanghai"`)).toBe(cme(204));
  });

  it('v2 prints the profile\'s region for device information stored without one', async () => {
    const h = await tc(setting({ region: 'ap-beijing' }));
    await h.exchange(`AT+TCDEVINFOSET=1,"${PID}","${DN}","${PSK}"`, '+TCDEVINFOSET:OK\r\n');
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply(`+TCDEVINFOSET:1,"${PID}","${DN}",116,"ap-beijing"`));
  });
});

describe('escaped publish data', () => {
  it('AT+TCMQTTPUBL: the escaped 367-byte payload of Tencent\'s report is published unescaped (355 bytes)', async () => {
    const { m, published } = await memoryTencent();
    await connect(m);
    const raw = reportMessage('P3FN18GP6K9SJ4GZ7GZW95OUMBP1M0KRNVANY4O6GWKORLSLFG4R3WR7KYGY4ABKFX9NIVVZ0PFNKTWYXOXCCEGU70WYXYZTV1TK4ZRHP48JBNGAMPP6O5HZ415MVECX0QQXH8VNUG0T61RYCI8A8E0FUEGDVQ1QCWGDMYABGA9P77SMLQBQB8HPN8PTQ6EBVICTPR5O1R1L9U2OIXXK9WZUYE2C4PNPFS37IIEL1554VE81ES9GKTCTAP4BN24PPVY2WAMOE8ROJBDEWZIQSKLSO0DW3U8SE6I69SMI9T3N');
    const typed = escapeQuoteComma(raw);
    expect(Buffer.byteLength(typed)).toBe(367);
    m.clear();
    m.send(`AT+TCMQTTPUBL="${DATA}",1,367\r`);
    expect(await m.waitFor('\r\n>\r\n')).toBe('\r\nOK\r\n\r\n>\r\n');
    m.clear();
    m.send(`${typed}\r\n`);
    expect(await m.waitFor('+TCMQTTPUBL:OK\r\n')).toBe('\r\n+TCMQTTPUBL:OK\r\n');
    const p = published.find((x) => x.topic === DATA);
    expect(p?.payload.length).toBe(355);
    expect(p?.payload.toString()).toBe(raw);
    expect(JSON.parse(p!.payload.toString())).toMatchObject({ action: 'test', time: 1598000979 });
  });

  it('AT+TCMQTTPUBL: a backslash escapes itself; other backslashes stay as typed', async () => {
    const { m, published } = await memoryTencent();
    await connect(m);
    const typed = 'a\\\\b\\nc\\,d';
    m.clear();
    m.send(`AT+TCMQTTPUBL="${DATA}",0,${typed.length}\r`);
    await m.waitFor('\r\n>\r\n');
    m.send(`${typed}\r\n`);
    await m.waitFor('+TCMQTTPUBL:OK\r\n');
    expect(published.find((x) => x.topic === DATA)?.payload.toString()).toBe('a\\b\\nc,d');
  });

  it('escapes only " when the profile says so (cellular builds): \\, is published as typed', async () => {
    const h = await tc(setting({ payloadEscapes: ['"'] }));
    await connectHarness(h);
    expect(await h.exchange(`AT+TCMQTTPUB="${DATA}",0,"{\\"a\\":1\\,\\"b\\":2}"`, '+TCMQTTPUB:OK\r\n')).toBe(okThen('+TCMQTTPUB:OK'));
    const typed = '{\\"a\\":1\\,\\"b\\":2}';
    h.clear();
    h.send(`AT+TCMQTTPUBL="${DATA}",0,${typed.length}\r`);
    await h.waitFor('\r\n>\r\n');
    h.send(`${typed}\r\n`);
    await h.waitFor('+TCMQTTPUBL:OK\r\n');
    const payloads = h.published.filter((x) => x.topic === DATA).map((x) => x.payload.toString());
    expect(payloads).toEqual(['{"a":1\\,"b":2}', '{"a":1\\,"b":2}']);
  });

  it('sends data as typed with no escapes configured', async () => {
    const h = await tc(setting({ payloadEscapes: [] }));
    await connectHarness(h);
    const typed = '{\\"a\\":1}';
    h.send(`AT+TCMQTTPUBL="${DATA}",0,${typed.length}\r`);
    await h.waitFor('\r\n>\r\n');
    h.send(`${typed}\r\n`);
    await h.waitFor('+TCMQTTPUBL:OK\r\n');
    expect(h.published.find((x) => x.topic === DATA)?.payload.toString()).toBe(typed);
  });
});
