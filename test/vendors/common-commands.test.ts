/**
 * The common 3GPP TS 27.007 / V.250 commands on the EC200 profile, through createMemoryModem():
 * exact response bytes, identity strings from profiles/quectel-ec200.json.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const cme = (n: number | string) => `\r\n+CME ERROR: ${n}\r\n`;

const profile = loadProfile('quectel-ec200');
const id = profile.identity;

const modems: MemoryModem[] = [];
afterEach(async () => {
  await Promise.all(modems.splice(0).map((m) => m.stop()));
});

/** A modem as the EC200 profile powers up, except that echo starts off (the helper's default). */
function modem(opts: Parameters<typeof createMemoryModem>[1] = {}): MemoryModem {
  const m = createMemoryModem('quectel-ec200', opts);
  modems.push(m);
  return m;
}

describe('AT and echo (ATE)', () => {
  it('answers AT with OK', async () => {
    expect(await modem().at('AT')).toBe(OK);
  });

  it('powers up with echo on as the profile says (ATE1 default): the line is echoed through the CR', async () => {
    expect(profile.at.echo).toBe(true);
    const m = modem({ echo: true });
    expect(await m.at('AT')).toBe(`AT\r${OK}`);
  });

  it('ATE0 is echoed itself, then nothing is echoed', async () => {
    const m = modem({ echo: true });
    expect(await m.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await m.at('AT+CGMI')).toBe(reply(id.manufacturer));
  });

  it('ATE1 turns echo on: the next line is echoed byte for byte, before the response', async () => {
    const m = modem();
    expect(await m.at('ATE1')).toBe(OK);
    expect(await m.at('at+cgmi')).toBe(`at+cgmi\r${reply(id.manufacturer)}`);
    expect(m.port.host.writes.map((w) => w.toString('latin1'))).toEqual(['at+cgmi\r', reply(id.manufacturer)]);
  });

  it('ATE is ATE0', async () => {
    const m = modem({ echo: true });
    expect(await m.at('ATE')).toBe(`ATE\r${OK}`);
    expect(await m.at('AT')).toBe(OK);
  });

  it('ATE2 answers ERROR and leaves echo as it was', async () => {
    const m = modem();
    expect(await m.at('ATE2')).toBe(ERROR);
    expect(await m.at('AT')).toBe(OK);
  });

  it('does not echo junk before AT', async () => {
    const m = modem({ echo: true });
    expect(await m.at('\x00zzAT')).toBe(`AT\r${OK}`);
  });

  it('runs ATE0;+CMEE=2 as one line (basic and extended commands concatenated)', async () => {
    const m = modem({ echo: true });
    expect(await m.at('ATE0;+CMEE=2')).toBe(`ATE0;+CMEE=2\r${OK}`);
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 2'));
  });
});

describe('identification', () => {
  it('ATI prints the profile ati lines', async () => {
    expect(await modem().at('ATI')).toBe(reply('Quectel', 'EC200U', 'Revision: EC200UCNAAR03A11M08'));
    expect(id.ati).toEqual(['Quectel', 'EC200U', 'Revision: EC200UCNAAR03A11M08']);
  });

  it('ATI0 prints the same lines', async () => {
    expect(await modem().at('ATI0')).toBe(reply(...id.ati));
  });

  it('AT+CGMI and AT+GMI print the manufacturer', async () => {
    const m = modem();
    expect(await m.at('AT+CGMI')).toBe(reply('Quectel'));
    expect(await m.at('AT+GMI')).toBe(reply('Quectel'));
    expect(await m.at('AT+CGMI=?')).toBe(OK);
  });

  it('AT+CGMM and AT+GMM print the model', async () => {
    const m = modem();
    expect(await m.at('AT+CGMM')).toBe(reply('EC200U'));
    expect(await m.at('AT+GMM')).toBe(reply('EC200U'));
    expect(await m.at('AT+CGMM=?')).toBe(OK);
  });

  it('AT+CGMR and AT+GMR print the revision', async () => {
    const m = modem();
    expect(await m.at('AT+CGMR')).toBe(reply('EC200UCNAAR03A11M08'));
    expect(await m.at('AT+GMR')).toBe(reply('EC200UCNAAR03A11M08'));
  });

  it('AT+CGSN and AT+GSN print the IMEI', async () => {
    const m = modem();
    expect(await m.at('AT+CGSN')).toBe(reply('866123040000001'));
    expect(await m.at('AT+GSN')).toBe(reply('866123040000001'));
    expect(await m.at('AT+CGSN=?')).toBe(OK);
  });

  it('AT+CGSN=1 prints +CGSN: "<IMEI>", AT+CGSN=0 the serial number', async () => {
    const m = modem();
    expect(await m.at('AT+CGSN=1')).toBe(reply('+CGSN: "866123040000001"'));
    expect(await m.at('AT+CGSN=0')).toBe(reply('866123040000001'));
  });

  it('AT+CGSN with a bad <snt> answers CME 50', async () => {
    const m = modem();
    expect(await m.at('AT+CGSN=7')).toBe(cme(50));
    expect(await m.at('AT+CGSN="1"')).toBe(cme(50));
  });

  it('identity commands have no read form', async () => {
    expect(await modem().at('AT+CGMI?')).toBe(ERROR);
  });
});

describe('AT+CMEE', () => {
  it('powers up with the profile value 1 and reports it', async () => {
    expect(profile.at.cmee).toBe(1);
    expect(await modem().at('AT+CMEE?')).toBe(reply('+CMEE: 1'));
  });

  it('lists (0-2) for the test form', async () => {
    expect(await modem().at('AT+CMEE=?')).toBe(reply('+CMEE: (0-2)'));
  });

  it('CMEE=1: a bad parameter of a common command answers +CME ERROR: 50', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=1')).toBe(OK);
    expect(await m.at('AT+CFUN=9')).toBe(cme(50));
  });

  it('CMEE=2: the same error answers +CME ERROR: Incorrect parameters', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=2')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 2'));
    expect(await m.at('AT+CFUN=9')).toBe(cme('Incorrect parameters'));
  });

  it('CMEE=0: the same error answers plain ERROR', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=0')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 0'));
    expect(await m.at('AT+CFUN=9')).toBe(ERROR);
  });

  it('AT+CMEE=3 answers CME 50 rendered with the current setting', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=3')).toBe(cme(50));
    expect(await m.at('AT+CMEE=')).toBe(cme(50));
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 1'));
  });

  it('unknown commands answer plain ERROR whatever CMEE says', async () => {
    const m = modem();
    expect(await m.at('AT+CMEE=2')).toBe(OK);
    expect(await m.at('AT+NOSUCH')).toBe(ERROR);
  });
});

describe('AT+CSQ and AT+CPIN', () => {
  it('AT+CSQ prints rssi,ber', async () => {
    expect(await modem().at('AT+CSQ')).toBe(reply('+CSQ: 24,99'));
  });

  it('AT+CSQ=? lists the ranges', async () => {
    expect(await modem().at('AT+CSQ=?')).toBe(reply('+CSQ: (0-31,99),(0-7,99)'));
  });

  it('AT+CSQ prints 99,99 with the radio off', async () => {
    const m = modem();
    await m.at('AT+CFUN=0');
    expect(await m.at('AT+CSQ')).toBe(reply('+CSQ: 99,99'));
  });

  it('AT+CPIN? reports READY', async () => {
    expect(await modem().at('AT+CPIN?')).toBe(reply('+CPIN: READY'));
  });

  it('AT+CPIN="1234" answers CME 3 (the SIM needs no PIN)', async () => {
    const m = modem();
    expect(await m.at('AT+CPIN="1234"')).toBe(cme(3));
    await m.at('AT+CMEE=2');
    expect(await m.at('AT+CPIN="1234"')).toBe(cme('operation not allowed'));
  });
});

describe('registration: AT+CREG and AT+CEREG', () => {
  it('AT+CREG? reports <n>=0 and registered home', async () => {
    expect(await modem().at('AT+CREG?')).toBe(reply('+CREG: 0,1'));
  });

  it('AT+CREG=? lists (0-2)', async () => {
    expect(await modem().at('AT+CREG=?')).toBe(reply('+CREG: (0-2)'));
  });

  it('AT+CREG=1 is reported back and enables the +CREG: <stat> URC on a change, after the OK', async () => {
    const m = modem();
    expect(await m.at('AT+CREG=1')).toBe(OK);
    expect(await m.at('AT+CREG?')).toBe(reply('+CREG: 1,1'));
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    const out = await m.waitFor('+CREG: 0\r\n');
    expect(out).toBe(`${OK}\r\n+CREG: 0\r\n`);
    expect(m.port.host.writes.map((w) => w.toString('latin1'))).toEqual([OK, '\r\n+CREG: 0\r\n']);
    expect(await m.at('AT+CREG?')).toBe(reply('+CREG: 1,0'));
    expect(await m.at('AT+CFUN=1')).toBe(OK);
    expect(await m.waitFor('+CREG: 1\r\n')).toBe(`${OK}\r\n+CREG: 1\r\n`);
  });

  it('AT+CREG=0 sends no URC on a change', async () => {
    const m = modem();
    await m.at('AT+CREG=0');
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    // URCs keep the order they were raised in: a marker raised now comes after any +CREG URC.
    m.modem.engine.urc('+MARK');
    expect(await m.waitFor('+MARK\r\n')).toBe(`${OK}\r\n+MARK\r\n`);
  });

  it('AT+CREG=3 answers CME 50', async () => {
    expect(await modem().at('AT+CREG=3')).toBe(cme(50));
  });

  it('AT+CEREG? / =? / =1 and the +CEREG URC', async () => {
    const m = modem();
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 0,1'));
    expect(await m.at('AT+CEREG=?')).toBe(reply('+CEREG: (0-5)'));
    expect(await m.at('AT+CEREG=1')).toBe(OK);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 1,1'));
    expect(await m.at('AT+CFUN=4')).toBe(OK);
    expect(await m.waitFor('+CEREG: 0\r\n')).toBe(`${OK}\r\n+CEREG: 0\r\n`);
    expect(await m.at('AT+CEREG=6')).toBe(cme(50));
  });

  it('with both CREG=1 and CEREG=1 a change gives both URCs, each in its own write', async () => {
    const m = modem();
    await m.at('AT+CREG=1;+CEREG=1');
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    await m.waitFor('+CEREG: 0\r\n');
    expect(m.port.host.writes.map((w) => w.toString('latin1'))).toEqual([OK, '\r\n+CREG: 0\r\n', '\r\n+CEREG: 0\r\n']);
  });
});

describe('packet domain: AT+CGATT and AT+CGACT', () => {
  it('AT+CGATT? reports attached; =? lists (0,1)', async () => {
    const m = modem();
    expect(await m.at('AT+CGATT?')).toBe(reply('+CGATT: 1'));
    expect(await m.at('AT+CGATT=?')).toBe(reply('+CGATT: (0,1)'));
  });

  it('AT+CGATT=0 detaches and =1 attaches again', async () => {
    const m = modem();
    expect(await m.at('AT+CGATT=0')).toBe(OK);
    expect(await m.at('AT+CGATT?')).toBe(reply('+CGATT: 0'));
    expect(await m.at('AT+CGATT=1')).toBe(OK);
    expect(await m.at('AT+CGATT?')).toBe(reply('+CGATT: 1'));
    expect(await m.at('AT+CGATT=2')).toBe(cme(50));
  });

  it('AT+CGACT? reports context 1 active; =? lists (0,1)', async () => {
    const m = modem();
    expect(await m.at('AT+CGACT?')).toBe(reply('+CGACT: 1,1'));
    expect(await m.at('AT+CGACT=?')).toBe(reply('+CGACT: (0,1)'));
  });

  it('AT+CGACT=0,1 deactivates and =1,1 activates context 1', async () => {
    const m = modem();
    expect(await m.at('AT+CGACT=0,1')).toBe(OK);
    expect(await m.at('AT+CGACT?')).toBe(reply('+CGACT: 1,0'));
    expect(await m.at('AT+CGACT=1,1')).toBe(OK);
    expect(await m.at('AT+CGACT?')).toBe(reply('+CGACT: 1,1'));
    expect(await m.at('AT+CGACT=1,16')).toBe(cme(50));
  });

  it('AT+CGACT? reports 0 with the radio off', async () => {
    const m = modem();
    await m.at('AT+CFUN=0');
    expect(await m.at('AT+CGACT?')).toBe(reply('+CGACT: 1,0'));
    expect(await m.at('AT+CGATT?')).toBe(reply('+CGATT: 0'));
  });
});

describe('AT+CFUN', () => {
  it('AT+CFUN? reports full functionality at power-up', async () => {
    expect(await modem().at('AT+CFUN?')).toBe(reply('+CFUN: 1'));
  });

  it('AT+CFUN=? lists (0,1,4),(0,1)', async () => {
    expect(await modem().at('AT+CFUN=?')).toBe(reply('+CFUN: (0,1,4),(0,1)'));
  });

  it('AT+CFUN=0 and AT+CFUN=1 switch the level, reported by AT+CFUN? and registration', async () => {
    const m = modem();
    expect(await m.at('AT+CFUN=0')).toBe(OK);
    expect(await m.at('AT+CFUN?')).toBe(reply('+CFUN: 0'));
    expect(await m.at('AT+CREG?')).toBe(reply('+CREG: 0,0'));
    expect(await m.at('AT+CFUN=1')).toBe(OK);
    expect(await m.at('AT+CFUN?')).toBe(reply('+CFUN: 1'));
    expect(await m.at('AT+CREG?')).toBe(reply('+CREG: 0,1'));
  });

  it('AT+CFUN=4 turns the radio off', async () => {
    const m = modem();
    expect(await m.at('AT+CFUN=4')).toBe(OK);
    expect(await m.at('AT+CFUN?')).toBe(reply('+CFUN: 4'));
  });

  it('AT+CFUN with a bad value, a bad <rst> or no value answers CME 50', async () => {
    const m = modem();
    expect(await m.at('AT+CFUN=2')).toBe(cme(50));
    expect(await m.at('AT+CFUN=1,2')).toBe(cme(50));
    expect(await m.at('AT+CFUN=')).toBe(cme(50));
    expect(await m.at('AT+CFUN=1,0,0')).toBe(cme(50));
    expect(await m.at('AT+CFUN=a')).toBe(cme(50));
  });

  it('AT+CFUN=1,1 reboots: OK, then the boot URC, with echo and CMEE back at power-on values', async () => {
    const m = modem();
    await m.at('AT+CMEE=0');
    expect(await m.at('AT+CFUN=1,1')).toBe(OK);
    expect(await m.waitFor('RDY')).toBe(`${OK}\r\nRDY\r\n`);
    m.clear();
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
  });
});

describe('ATZ, AT&F, AT&W', () => {
  it('ATZ restores echo and CMEE to the profile values', async () => {
    const m = modem();
    await m.at('AT+CMEE=2');
    expect(await m.at('ATZ')).toBe(OK);
    // Echo is on again (profile: echo true), CMEE is 1 again.
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
    expect(await m.at('AT+CFUN=9')).toBe(`AT+CFUN=9\r${cme(50)}`);
  });

  it('ATZ0 does the same', async () => {
    const m = modem();
    await m.at('AT+CMEE=0');
    expect(await m.at('ATZ0')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
  });

  it('AT&F restores echo and CMEE to the profile values', async () => {
    const m = modem({ echo: true });
    await m.at('ATE0;+CMEE=0');
    expect(await m.at('AT&F')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
  });

  it('AT&F0 does the same', async () => {
    const m = modem();
    await m.at('AT+CMEE=2');
    expect(await m.at('AT&F0')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(`AT+CMEE?\r${reply('+CMEE: 1')}`);
  });

  it('AT&W answers OK and changes nothing', async () => {
    const m = modem();
    await m.at('AT+CMEE=2');
    expect(await m.at('AT&W')).toBe(OK);
    expect(await m.at('AT&W0')).toBe(OK);
    expect(await m.at('AT+CMEE?')).toBe(reply('+CMEE: 2'));
  });
});

describe('AT+QSCLK (Quectel basic set)', () => {
  it('reports 0 at power-up and (0-2) for the test form', async () => {
    const m = modem();
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 0'));
    expect(await m.at('AT+QSCLK=?')).toBe(reply('+QSCLK: (0-2)'));
  });

  it('keeps a set value and reports it', async () => {
    const m = modem();
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 1'));
    expect(await m.at('AT+QSCLK=2')).toBe(OK);
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 2'));
  });

  it('answers CME 50 to a value out of range or missing', async () => {
    const m = modem();
    expect(await m.at('AT+QSCLK=3')).toBe(cme(50));
    expect(await m.at('AT+QSCLK=')).toBe(cme(50));
    expect(await m.at('AT+QSCLK="1"')).toBe(cme(50));
  });

  it('ATZ resets it to 0', async () => {
    const m = modem();
    await m.at('AT+QSCLK=2');
    await m.at('ATZ');
    expect(await m.at('AT+QSCLK?')).toBe(`AT+QSCLK?\r${reply('+QSCLK: 0')}`);
  });
});
