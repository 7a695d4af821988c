/**
 * The config file's `radio:` blocks (issue 13): radio and SIM defaults at the top level and per
 * modem, checked with their own messages (file, line, key), passed through startVmodem to each
 * modem's radio (ModemOptions.radio) and answered by the bring-up commands.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configToVmodemOptions, parseConfig } from '../../src/config/config-file.js';
import type { RadioSettings } from '../../src/modem/radio-settings.js';
import { createMemoryModem } from '../helpers/memory-modem.js';
import { startVmodem, VmodemConfigError } from '../../src/vmodem.js';
import { onCleanup, useE2eCleanup } from '../helpers/e2e-harness.js';

useE2eCleanup();

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function failure(text: string): string {
  try {
    parseConfig(text, { file: 'vm.yaml', baseDir: '/cfg' });
  } catch (err) {
    expect(err).toBeInstanceOf(VmodemConfigError);
    return (err as Error).message;
  }
  throw new Error('the config parsed');
}

/** Ask a modem built with these radio options (fast timing, memory port). */
async function answer(profile: string, radio: Partial<RadioSettings>, line: string): Promise<string> {
  const m = createMemoryModem(profile, { radio });
  closers.push(() => m.stop());
  return m.at(line);
}

describe('radio: in the config file', () => {
  it('parses kebab-case and camelCase keys at the top level and per modem', () => {
    const cfg = parseConfig(
      [
        'radio:',
        '  operator: { plmn: "46001", long: CHN-UNICOM, short: UNICOM }',
        '  apn: uninet',
        '  ip: 10.1.2.3',
        '  tac: 00ab',
        '  ci: 1234abcd',
        '  registration-ms: 4000',
        '  timeZoneQuarters: 4',
        '  psm: { active-time-s: 30 }',
        'modems:',
        '  - name: a',
        '    radio: { iccid: "89860112345678901234", imsi: "460011234567890" }',
        '  - name: b',
        '    radio: { apn: private.apn, registrationMs: 0 }',
      ].join('\n'),
      { file: 'vm.yaml' },
    );
    expect(cfg.radio).toEqual({
      operator: { plmn: '46001', long: 'CHN-UNICOM', short: 'UNICOM' },
      apn: 'uninet',
      ip: '10.1.2.3',
      tac: '00AB',
      ci: '1234ABCD',
      registrationMs: 4000,
      timeZoneQuarters: 4,
      psm: { activeTimeS: 30 },
    });
    expect(cfg.modems).toEqual([
      { name: 'a', radio: { iccid: '89860112345678901234', imsi: '460011234567890' } },
      { name: 'b', radio: { apn: 'private.apn', registrationMs: 0 } },
    ]);
    expect(configToVmodemOptions(cfg)).toMatchObject({ radio: cfg.radio, modems: cfg.modems });
  });

  const cases: { name: string; yaml: string; message: string }[] = [
    { name: 'unknown radio key', yaml: 'radio:\n  apn: x\n  opertor: y\n', message: 'config vm.yaml line 3: radio.opertor: unknown key "opertor" (expected operator, apn, ip, iccid, imsi, tac, ci, registration-ms, activate-ms, boot-ms, time-zone-quarters, psm)' },
    { name: 'radio not a mapping', yaml: 'radio: 5\n', message: 'config vm.yaml line 1: radio must be a mapping of radio settings' },
    { name: 'bad IP', yaml: 'radio:\n  ip: 10.1.2\n', message: 'config vm.yaml line 2: radio.ip must be an IPv4 address (e.g. 10.68.12.34), not string "10.1.2"' },
    { name: 'bad ICCID', yaml: 'modems:\n  - radio:\n      iccid: "8986"\n', message: 'config vm.yaml line 3: modems[0].radio.iccid must be an ICCID of 19 or 20 digits (quote it)' },
    { name: 'bad IMSI', yaml: 'radio:\n  imsi: "46000abc"\n', message: 'config vm.yaml line 2: radio.imsi must be an IMSI of 15 digits (quote it)' },
    { name: 'bad PLMN', yaml: 'radio:\n  operator: { plmn: "460" }\n', message: 'config vm.yaml line 2: radio.operator.plmn must be an MCC+MNC of 5 or 6 digits' },
    { name: 'unknown operator key', yaml: 'radio:\n  operator: { name: x }\n', message: 'unknown key "name" (expected plmn, long, short)' },
    { name: 'bad cell id', yaml: 'radio:\n  ci: xyz\n', message: 'config vm.yaml line 2: radio.ci must be a cell id of 1–8 hex digits' },
    { name: 'negative registration time', yaml: 'radio:\n  registration-ms: -1\n', message: 'config vm.yaml line 2: radio.registration-ms must be a whole number 0–600000' },
    { name: 'unknown psm key', yaml: 'radio:\n  psm: { active: 1 }\n', message: 'unknown key "active" (expected active-time-s, periodic-tau-s)' },
    { name: 'one ICCID for many modems', yaml: 'count: 2\nradio:\n  iccid: "89860112345678901234"\n', message: 'config vm.yaml line 3: radio.iccid at the top level would give every modem the same SIM; set it per modem (modems[i].radio.iccid)' },
  ];
  for (const c of cases) {
    it(`error: ${c.name}`, () => {
      expect(failure(c.yaml)).toContain(c.message);
    });
  }
});

describe('the radio options reach the modem', () => {
  it('operator, SIM identity, APN, IP and cell ids are what the bring-up commands answer', async () => {
    const radio = {
      operator: { plmn: '46001', long: 'CHN-UNICOM', short: 'UNICOM' },
      apn: 'uninet',
      ip: '10.1.2.3',
      iccid: '89860112345678901234',
      imsi: '460011234567890',
      tac: '00AB',
      ci: '1234ABCD',
    };
    expect(await answer('quectel-ec200', radio, 'AT+COPS?')).toBe('\r\n+COPS: 0,0,"CHN-UNICOM",7\r\n\r\nOK\r\n');
    expect(await answer('quectel-ec200', radio, 'AT+QCCID')).toBe('\r\n+QCCID: 89860112345678901234\r\n\r\nOK\r\n');
    expect(await answer('quectel-ec200', radio, 'AT+CIMI')).toBe('\r\n460011234567890\r\n\r\nOK\r\n');
    expect(await answer('quectel-ec200', radio, 'AT+CGDCONT?')).toContain('+CGDCONT: 1,"IP","uninet","10.1.2.3"');
    expect(await answer('quectel-ec200', radio, 'AT+QIACT?')).toBe('\r\n+QIACT: 1,1,1,"10.1.2.3"\r\n\r\nOK\r\n');
    expect(await answer('onemo-ml307', radio, 'AT+ICCID')).toBe('\r\n+ICCID: 89860112345678901234\r\n\r\nOK\r\n');
  });

  it('a partial operator keeps the profile’s other fields; PSM timers apply only where the profile has PSM', async () => {
    expect(await answer('quectel-ec200', { operator: { long: 'TEST NET' } as never }, 'AT+COPS=3,2;+COPS?')).toBe('\r\n+COPS: 0,2,"46000",7\r\n\r\nOK\r\n');
    expect(await answer('quectel-ec200', { psm: { activeTimeS: 10 } as never }, 'AT+CPSMS?')).toMatch(/ERROR/);
    const m = createMemoryModem('quectel-bc260y', { radio: { psm: { activeTimeS: 10 } as never } });
    closers.push(() => m.stop());
    expect(m.modem.network.radio.psm).toEqual({ activeTimeS: 10, periodicTauS: 3600 });
  });

  it('startVmodem gives each modem the shared radio block with its own over it', async () => {
    const cfg = parseConfig(
      [
        'mqtt-port: 0',
        'timing: fast',
        'link: null',
        'radio:',
        '  apn: shared.apn',
        '  operator: { long: SHARED }',
        'modems:',
        '  - name: a',
        '    radio: { iccid: "89860112345678901234", operator: { short: A } }',
        '  - name: b',
        '    profile: quectel-bc260y',
        '    radio: { apn: own.apn }',
      ].join('\n'),
      { file: 'vm.yaml' },
    );
    const vm = await startVmodem(configToVmodemOptions(cfg));
    onCleanup(() => vm.stop());
    const [a, b] = vm.modems.map((x) => x.modem.network);
    expect(a!.iccid).toBe('89860112345678901234');
    expect(a!.radio.apn).toBe('shared.apn');
    expect(a!.operator).toEqual({ plmn: '46000', long: 'SHARED', short: 'A' });
    expect(b!.radio.apn).toBe('own.apn');
    expect(b!.operator.long).toBe('SHARED');
    expect(b!.iccid).not.toBe(a!.iccid);
  });
});
