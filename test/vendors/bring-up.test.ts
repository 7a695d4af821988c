/**
 * The cellular bring-up (issue 13) on memory modems: SIM, identity, registration that takes the
 * profile's time on a TestClock ('real' timing: settings.radio figures), operator, data
 * contexts, clock, resets that go silent and boot with their URCs in order, and the network
 * faults of the control side (SIM pulled, registration denied/roaming, context deactivated).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { TestClock } from '../../src/util/clock.js';
import { decodeT3324, decodeT3412, encodeT3324, encodeT3412 } from '../../src/vendors/common/psm-timers.js';
import { deriveIccid, deriveImsi, luhnDigit } from '../../src/modem/radio-settings.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const cme = (n: number | string) => `\r\n+CME ERROR: ${n}\r\n`;
const urc = (line: string) => `\r\n${line}\r\n`;

const modems: MemoryModem[] = [];
afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
});

/** A modem on a TestClock; 'real' timing runs the profile's radio figures in virtual time. */
function modem(profile: string, timing: 'real' | 'fast' = 'real'): { m: MemoryModem; clock: TestClock } {
  const clock = new TestClock();
  const m = createMemoryModem(profile, { clock, timing });
  modems.push(m);
  return { m, clock };
}

const radio = (profile: string) => loadProfile(profile).settings.radio as { bootMs: number; registrationMs: number; powerOnAfterMs?: number };

describe('SIM and identity', () => {
  it('ICCID and IMSI are derived from the IMEI: 20 digits with a valid Luhn digit, and the operator PLMN first', () => {
    const iccid = deriveIccid('866123040000001');
    expect(iccid).toBe('89860066123040000004');
    expect(luhnDigit(iccid.slice(0, 19))).toBe(iccid[19]);
    expect(deriveImsi('46000', '866123040000001')).toBe('460003040000001');
  });

  it('each profile reads its ICCID with the command its module has, and AT+CIMI the IMSI', async () => {
    const ec = modem('quectel-ec200', 'fast').m;
    expect(await ec.at('AT+QCCID')).toBe(reply('+QCCID: 89860066123040000004'));
    expect(await ec.at('AT+CIMI')).toBe(reply('460003040000001'));
    expect(await ec.at('AT+ICCID')).toBe('\r\nERROR\r\n');
    const ml = modem('onemo-ml307', 'fast').m;
    expect(await ml.at('AT+ICCID')).toBe(reply('+ICCID: 89860069523060000007'));
    expect(await ml.at('AT+QCCID')).toBe('\r\nERROR\r\n');
    const yu = modem('yuge-clm920', 'fast').m;
    expect(await yu.at('AT+ICCID')).toBe(reply('+ICCID: 89860064856050000008'));
    const nb = modem('quectel-bc260y', 'fast').m;
    expect(await nb.at('AT+QCCID')).toBe(reply('+QCCID: 89860067065050000003'));
  });

  it('the Wi-Fi profile gets none of the cellular commands', async () => {
    const m = modem('tencent-qcloud', 'fast').m;
    for (const line of ['AT+CIMI', 'AT+COPS?', 'AT+CGDCONT?', 'AT+QCCID']) expect(await m.at(line)).toMatch(/ERROR/);
  });

  it('a pulled SIM prints +CPIN: NOT READY, answers CME 10 to AT+CPIN?/AT+CIMI/AT+QCCID and loses registration; put back it registers after the profile time', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+CEREG=1')).toBe(OK);
    m.clear();
    m.modem.network.setSim(false);
    expect(await m.waitFor('+CEREG: 0\r\n')).toBe(`${urc('+CPIN: NOT READY')}${urc('+CEREG: 0')}`);
    expect(await m.at('AT+CPIN?')).toBe(cme(10));
    expect(await m.at('AT+CIMI')).toBe(cme(10));
    expect(await m.at('AT+QCCID')).toBe(cme(10));
    expect(m.modem.network.dataReady).toBe(false);
    m.clear();
    const t0 = clock.now();
    m.modem.network.setSim(true);
    await m.waitFor('+CEREG: 1\r\n', 10_000);
    expect(clock.now() - t0).toBe(radio('quectel-ec200').registrationMs);
    expect(m.output()).toBe(`${urc('+CPIN: READY')}${urc('+QIND: SMS DONE')}${urc('+QIND: PB DONE')}${urc('+CEREG: 2')}${urc('+CEREG: 1')}`);
    expect(await m.at('AT+CPIN?')).toBe(reply('+CPIN: READY'));
  });
});

describe('registration takes time', () => {
  it('AT+CFUN=0 reports +CEREG: 0 after its OK; AT+CFUN=1 searches (+CEREG: 2) and registers after registrationMs on the clock', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+CEREG=1')).toBe(OK);
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    expect(await m.waitFor('+CEREG: 0\r\n')).toBe(`${OK}${urc('+CEREG: 0')}`);
    expect(await m.at('AT+CFUN=1')).toBe(OK);
    expect(await m.waitFor('+CEREG: 2\r\n')).toBe(`${OK}${urc('+CEREG: 2')}`);
    const t0 = clock.now();
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 1,2'));
    expect(await m.at('AT+CGATT?')).toBe(reply('+CGATT: 0'));
    m.clear();
    await m.waitFor('+CEREG: 1\r\n', 10_000);
    expect(clock.now() - t0).toBe(2500);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 1,1'));
    expect(await m.at('AT+QIACT?')).toBe(reply('+QIACT: 1,1,1,"10.68.12.34"'));
  });

  it('NB-IoT registers far later than Cat-1 (profile figures)', () => {
    expect(radio('quectel-bc260y').registrationMs).toBeGreaterThan(radio('quectel-ec200').registrationMs);
  });

  it('AT+CEREG=2 and =3 print the location; =5 with a denied registration prints the reject cause', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    expect(await m.at('AT+CEREG=2')).toBe(OK);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 2,1,"1A2B","0C8D7F01",7'));
    expect(await m.at('AT+CREG=2')).toBe(OK);
    expect(await m.at('AT+CREG?')).toBe(reply('+CREG: 2,1,"1A2B","0C8D7F01",7'));
    expect(await m.at('AT+CGREG=2')).toBe(OK);
    expect(await m.at('AT+CGREG?')).toBe(reply('+CGREG: 2,1,"1A2B","0C8D7F01",7'));
    expect(await m.at('AT+CGREG=3')).toBe(cme(50));
    expect(await m.at('AT+CEREG=5')).toBe(OK);
    m.clear();
    m.modem.network.setRegistration(3, 15);
    expect(await m.waitFor('+CEREG: 3')).toContain(urc('+CEREG: 3,"1A2B","0C8D7F01",7,0,15'));
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 5,3,"1A2B","0C8D7F01",7,0,15'));
    expect(m.modem.network.dataReady).toBe(false);
  });

  it('roaming (control API) is registered: <stat> 5 and data still flows', async () => {
    const { m } = modem('onemo-ml307', 'fast');
    m.modem.network.setRegistration(5);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 0,5'));
    expect(m.modem.network.dataReady).toBe(true);
  });

  it('NB-IoT: only AT+CEREG, with <n> 4 printing the granted PSM timers once PSM is asked for', async () => {
    const { m } = modem('quectel-bc260y', 'fast');
    expect(await m.at('AT+CREG?')).toBe('\r\nERROR\r\n');
    expect(await m.at('AT+CEREG=?')).toBe(reply('+CEREG: (0-5)'));
    expect(await m.at('AT+CEREG=4')).toBe(OK);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 4,1,"5E21","0B3C4D12",9'));
    m.modem.network.psmRequested = true;
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 4,1,"5E21","0B3C4D12",9,,,"00100001","00100001"'));
  });

  it('PSM timer bytes follow 3GPP TS 24.008 GPRS Timer 2 / 3', () => {
    expect(encodeT3324(60)).toBe('00100001');
    expect(decodeT3324('00100001')).toBe(60);
    expect(encodeT3324(10)).toBe('00000101');
    expect(encodeT3412(3600)).toBe('00100001');
    expect(decodeT3412('00111000')).toBe(86400);
    expect(encodeT3412(40)).toBe('01110100');
  });
});

describe('operator: AT+COPS', () => {
  it('reads the operator in each format, lists networks after a scan that takes scanMs, deregisters and selects again', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+COPS?')).toBe(reply('+COPS: 0,0,"CHINA MOBILE",7'));
    expect(await m.at('AT+COPS=3,1')).toBe(OK);
    expect(await m.at('AT+COPS?')).toBe(reply('+COPS: 0,1,"CMCC",7'));
    expect(await m.at('AT+COPS=3,2')).toBe(OK);
    expect(await m.at('AT+COPS?')).toBe(reply('+COPS: 0,2,"46000",7'));
    const t0 = clock.now();
    m.clear();
    m.send('AT+COPS=?\r');
    expect(await m.waitFor(/OK\r\n$/, 20_000)).toBe(reply('+COPS: (2,"CHINA MOBILE","CMCC","46000",7),(3,"CHN-UNICOM","UNICOM","46001",7),(3,"CHN-CT","CT","46011",7),,(0-4),(0-2)'));
    expect(clock.now() - t0).toBe(10_000);
    expect(await m.at('AT+COPS=2')).toBe(OK);
    expect(await m.at('AT+COPS?')).toBe(reply('+COPS: 2'));
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 0,0'));
    const t1 = clock.now();
    expect(await m.at('AT+COPS=0')).toBe(OK);
    expect(clock.now() - t1).toBe(2500);
    expect(await m.at('AT+COPS=1,2,"46001"')).toBe(cme(30));
    expect(await m.at('AT+COPS=1,2,"46000"')).toBe(OK);
    expect(await m.at('AT+COPS?')).toBe(reply('+COPS: 1,2,"46000",7'));
  });
});

describe('data context', () => {
  it('AT+CGDCONT defines and reads contexts, =<cid> alone undefines; AT+CGPADDR prints the address only while active', async () => {
    const { m } = modem('yuge-clm920', 'fast');
    expect(await m.at('AT+CGDCONT?')).toBe(reply('+CGDCONT: 1,"IP","cmnet","10.81.3.9",0,0'));
    expect(await m.at('AT+CGDCONT=2,"IPV4V6","iot.apn"')).toBe(OK);
    expect(await m.at('AT+CGDCONT?')).toBe(reply('+CGDCONT: 1,"IP","cmnet","10.81.3.9",0,0', '+CGDCONT: 2,"IPV4V6","iot.apn","0.0.0.0",0,0'));
    expect(await m.at('AT+CGPADDR')).toBe(reply('+CGPADDR: 1,"10.81.3.9"', '+CGPADDR: 2'));
    expect(await m.at('AT+CGACT=1,2')).toBe(OK);
    expect(await m.at('AT+CGPADDR=2')).toBe(reply('+CGPADDR: 2,"10.81.3.10"'));
    expect(await m.at('AT+CGDCONT=2')).toBe(OK);
    expect(await m.at('AT+CGACT?')).toBe(reply('+CGACT: 1,1'));
    expect(await m.at('AT+CGDCONT=1,"PPP","x"')).toBe(cme(50));
  });

  it('EC200: AT+QICSGP sets the APN read back by AT+QICSGP and AT+CGDCONT; AT+QIACT takes activateMs; AT+QIDEACT ends MQTT opens until re-activation', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+QICSGP=1,1,"iot.apn","user","pass",2')).toBe(OK);
    expect(await m.at('AT+QICSGP=1')).toBe(reply('+QICSGP: 1,"iot.apn","user","pass",2'));
    expect(await m.at('AT+CGDCONT?')).toBe(reply('+CGDCONT: 1,"IP","iot.apn","10.68.12.34",0,0'));
    const t0 = clock.now();
    expect(await m.at('AT+QIDEACT=1')).toBe(OK);
    expect(clock.now() - t0).toBe(200);
    expect(await m.at('AT+QIACT?')).toBe(OK);
    expect(m.modem.network.dataReady).toBe(false);
    expect(await m.at('AT+QMTOPEN=0,"h",1883')).toBe(OK);
    expect(await m.waitFor(/\+QMTOPEN: 0,\d+\r\n/)).not.toContain('+QMTOPEN: 0,0');
    const t1 = clock.now();
    expect(await m.at('AT+QIACT=1')).toBe(OK);
    expect(clock.now() - t1).toBe(300);
    expect(await m.at('AT+QIACT?')).toBe(reply('+QIACT: 1,1,1,"10.68.12.34"'));
    expect(m.modem.network.dataReady).toBe(true);
  });

  it('EC200: AT+QIACT answers ERROR while not registered', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    await m.at('AT+CFUN=0');
    expect(await m.at('AT+QIACT=1')).toBe('\r\nERROR\r\n');
  });

  it('the network deactivating the context prints +QIURC: "pdpdeact",1 on EC200 and +CGEV after AT+CGEREP=1; data stops', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    expect(await m.at('AT+CGEREP=1')).toBe(OK);
    m.clear();
    m.modem.network.setContext(1, false, 'network');
    await m.waitFor('+CGEV: NW PDN DEACT 1\r\n');
    expect(await m.waitFor('+QIURC: "pdpdeact",1\r\n')).toBe(`${urc('+CGEV: NW PDN DEACT 1')}${urc('+QIURC: "pdpdeact",1')}`);
    expect(m.modem.network.dataReady).toBe(false);
  });

  it('ML307: context 1 is up after registration, AT+MIPCALL=1,1 on it is CME 50; deactivate and activate report +MIPCALL after OK', async () => {
    const { m } = modem('onemo-ml307');
    expect(await m.at('AT+MIPCALL?')).toBe(reply('+MIPCALL: 1,1,"10.245.95.205"'));
    expect(await m.at('AT+MIPCALL=1,1')).toBe(cme(50));
    expect(await m.at('AT+MIPCALL=0,1')).toBe(OK);
    expect(await m.waitFor('+MIPCALL: 1,0\r\n')).toBe(`${OK}${urc('+MIPCALL: 1,0')}`);
    expect(await m.at('AT+MQTTCONN=0,"h",1883,"c"')).toBe(cme(605));
    expect(await m.at('AT+MIPCALL=1,1')).toBe(OK);
    expect(await m.waitFor('+MIPCALL: 1,1,"10.245.95.205"\r\n')).toBe(`${OK}${urc('+MIPCALL: 1,1,"10.245.95.205"')}`);
    m.clear();
    m.modem.network.setContext(1, false, 'network');
    expect(await m.waitFor('+MIPCALL: 1,0\r\n')).toBe(urc('+MIPCALL: 1,0'));
  });
});

describe('clock', () => {
  it('AT+CCLK reads yy/MM/dd,hh:mm:ss+32, a set value moves on with the module clock', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+CCLK?')).toMatch(/^\r\n\+CCLK: "\d\d\/\d\d\/\d\d,\d\d:\d\d:\d\d\+32"\r\n\r\nOK\r\n$/);
    expect(await m.at('AT+CCLK="24/02/29,23:59:50+32"')).toBe(OK);
    await clock.advance(15_000);
    expect(await m.at('AT+CCLK?')).toBe(reply('+CCLK: "24/03/01,00:00:05+32"'));
    expect(await m.at('AT+CCLK="24/13/01,00:00:00+32"')).toBe(cme(50));
  });

  it('EC200: AT+QLTS and AT+QNTP report the network time; +QNTP comes after the OK', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    expect(await m.at('AT+QLTS=1')).toMatch(/^\r\n\+QLTS: "\d{4}\/\d\d\/\d\d,\d\d:\d\d:\d\d\+32",0\r\n\r\nOK\r\n$/);
    expect(await m.at('AT+QNTP=1,"ntp.aliyun.com",123')).toBe(OK);
    expect(await m.waitFor(/\+QNTP: 0,"[^"]+"\r\n/)).toMatch(/^\r\nOK\r\n\r\n\+QNTP: 0,"\d{4}\/\d\d\/\d\d,\d\d:\d\d:\d\d\+32"\r\n$/);
  });

  it('AT+CTZR=1 reports +CTZV: +32 when the module registers', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    expect(await m.at('AT+CTZR=1')).toBe(OK);
    await m.at('AT+CFUN=0');
    expect(await m.at('AT+CFUN=1')).toBe(OK);
    expect(await m.waitFor('+CTZV: +32\r\n')).toBe(`${OK}${urc('+CTZV: +32')}`);
  });
});

describe('Quectel settings firmware sets: AT+QURCCFG and AT+QCFG', () => {
  it('accepts and reads them back; an option the module lacks is ERROR', async () => {
    const { m } = modem('quectel-ec200', 'fast');
    expect(await m.at('AT+QURCCFG="urcport"')).toBe(reply('+QURCCFG: "urcport","usbat"'));
    expect(await m.at('AT+QURCCFG="urcport","uart1"')).toBe(OK);
    expect(await m.at('AT+QURCCFG="urcport"')).toBe(reply('+QURCCFG: "urcport","uart1"'));
    expect(await m.at('AT+QCFG="nwscanmode",3,1')).toBe(OK);
    expect(await m.at('AT+QCFG="nwscanmode"')).toBe(reply('+QCFG: "nwscanmode",3'));
    expect(await m.at('AT+QCFG="roamservice"')).toBe(reply('+QCFG: "roamservice",255'));
    expect(await m.at('AT+QCFG="nosuchoption",1')).toBe('\r\nERROR\r\n');
  });
});

describe('reset and boot', () => {
  it('EC200 AT+CFUN=1,1: OK, then silence (input ignored) for bootMs, then RDY, +CFUN: 1, +CPIN: READY, +QIND: SMS DONE, +QIND: PB DONE at their offsets, registered after registrationMs', async () => {
    const { m, clock } = modem('quectel-ec200');
    expect(await m.at('AT+CMEE=2;+CEREG=1')).toBe(OK);
    const t0 = clock.now();
    expect(await m.at('AT+CFUN=1,1')).toBe(OK);
    m.clear();
    m.send('AT\r');
    await clock.advance(2999);
    expect(m.output()).toBe('');
    const times: Record<string, number> = {};
    const off = m.port.host.onData((b) => {
      for (const line of b.toString('latin1').split('\r\n').filter(Boolean)) times[line] = clock.now() - t0;
    });
    await m.waitFor('+QIND: PB DONE\r\n', 10_000);
    off();
    expect(m.output()).toBe(['RDY', '+CFUN: 1', '+CPIN: READY', '+QIND: SMS DONE', '+QIND: PB DONE'].map(urc).join(''));
    expect(times).toEqual({ RDY: 3000, '+CFUN: 1': 3200, '+CPIN: READY': 3300, '+QIND: SMS DONE': 5000, '+QIND: PB DONE': 5500 });
    // RAM settings are back at power-on values: echo on, CMEE 1, CEREG 0 (no URC when it registers).
    m.clear();
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
    expect(m.modem.network.registered).toBe(true);
    expect(m.output()).not.toContain('+CEREG');
  });

  it('EC200 AT+QPOWD: OK, POWERED DOWN, off, then back after powerOnAfterMs + bootMs with RDY', async () => {
    const { m, clock } = modem('quectel-ec200');
    const t0 = clock.now();
    expect(await m.at('AT+QPOWD=1')).toBe(OK);
    expect(await m.waitFor('POWERED DOWN\r\n')).toBe(`${OK}${urc('POWERED DOWN')}`);
    await m.waitFor('RDY\r\n', 10_000);
    expect(clock.now() - t0).toBe((radio('quectel-ec200').powerOnAfterMs ?? 0) + radio('quectel-ec200').bootMs);
  });

  it('BC260Y AT+QRST=1: OK, silent for bootMs, RDY; NB-IoT registration after its registrationMs', async () => {
    const { m, clock } = modem('quectel-bc260y');
    const t0 = clock.now();
    expect(await m.at('AT+QRST=1')).toBe(OK);
    expect(await m.waitFor('RDY\r\n', 10_000)).toBe(`${OK}${urc('RDY')}`);
    expect(clock.now() - t0).toBe(1500);
    m.modem.engine.settings.echo = false;
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 0,2'));
    await clock.advance(10_000);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 0,1'));
  });

  it('ML307 AT+CFUN=1,1 comes back with +MATREADY after bootMs', async () => {
    const { m, clock } = modem('onemo-ml307');
    const t0 = clock.now();
    expect(await m.at('AT+CFUN=1,1')).toBe(OK);
    expect(await m.waitFor('+MATREADY\r\n', 10_000)).toBe(`${OK}${urc('+MATREADY')}`);
    expect(clock.now() - t0).toBe(3000);
  });

  it('CLM920 AT+CFUN=1,1 is silent while it boots and answers AT afterwards', async () => {
    const { m, clock } = modem('yuge-clm920');
    expect(await m.at('AT+CFUN=1,1')).toBe(OK);
    m.clear();
    m.send('AT\r');
    await clock.advance(4999);
    expect(m.output()).toBe('');
    await clock.advance(1);
    expect(await m.at('AT')).toBe(`AT\r${OK}`);
  });
});
