/**
 * The radio and SIM defaults of one profile: `settings.radio` in profiles/<id>.json, overridable
 * from the config file (`radio:` block). Every field has a default, so a profile without a radio
 * block (the Wi-Fi Tencent profile) still gets the same "registered, context 1 up" radio it had.
 *
 * Timings are module time in milliseconds on the injected clock; the "fast" timing mode shrinks
 * them like every other delay (src/modem/timing.ts).
 */

export interface OperatorInfo {
  /** MCC+MNC, e.g. "46000". */
  plmn: string;
  /** <oper> in long alphanumeric format (AT+COPS=3,0). */
  long: string;
  /** <oper> in short alphanumeric format (AT+COPS=3,1). */
  short: string;
}

export interface RadioSettings {
  /** Registered network. */
  operator: OperatorInfo;
  /** Other networks AT+COPS=? lists (status 3 "forbidden": the SIM belongs to `operator`). */
  otherOperators: OperatorInfo[];
  /** 27.007 <AcT>: 7 E-UTRAN (LTE Cat-1), 9 E-UTRAN NB-S1 (NB-IoT). */
  act: number;
  /** Tracking area code and cell id, hex as the module prints them ("1A2B", "0C8D7F01"). */
  tac: string;
  ci: string;
  /** APN of context 1 at power-on (what the network assigns as the default bearer). */
  apn: string;
  /** IPv4 address the network assigns to context 1 (context n gets the address + n - 1). */
  ip: string;
  /** SIM identity; derived from the IMEI when absent (see deriveIccid/deriveImsi). */
  iccid?: string;
  imsi?: string;
  /** Time zone in quarters of an hour (27.007 <tz>, "+32" = UTC+8). */
  timeZoneQuarters: number;
  /** Highest <n> of each registration command the module has; a command absent here is not on the module. */
  registration: Partial<Record<'+CREG' | '+CGREG' | '+CEREG', number>>;
  /** The network's default bearer comes up on attach as context 1 (LTE and NB-IoT attach with a PDN). */
  autoActivate: boolean;
  /** Silence after a reset before the first boot URC. */
  bootMs: number;
  /** Boot URCs after a reset, in order, each with its delay after the first one. */
  bootUrcs: { urc: string; afterMs: number }[];
  /** From AT+CFUN=1 (or boot) to registered. */
  registrationMs: number;
  /** AT+COPS=? network scan. */
  scanMs: number;
  /** Data context activation (AT+CGACT=1, AT+QIACT, AT+MIPCALL). */
  activateMs: number;
  /** Data context deactivation. */
  deactivateMs: number;
  /** URCs when the SIM is pulled / put back (control API), before registration changes. */
  simRemovedUrcs: string[];
  simInsertedUrcs: string[];
  /** NB-IoT power saving: T3324 active time and T3412 periodic TAU the network grants, seconds. */
  psm?: { activeTimeS: number; periodicTauS: number };
  /**
   * The power-saving commands and timings the module has (src/modem/power-saving.ts); absent = no
   * AT+CPSMS/AT+CEDRXS/AT+CSCON and no RRC/PSM model (the module is always reachable).
   */
  powerSaving?: PowerSavingSettings;
}

export interface PowerSavingSettings {
  /** The network releases the RRC connection after this long without data (+CSCON: 0). */
  rrcInactivityMs: number;
  /** After a UART wake-up in PSM, deep sleep again after this long without input (AT+QSCLK=1). */
  apIdleMs: number;
  /** Highest AT+CSCON <n> (27.007 §10.1.30); absent = no AT+CSCON. */
  csconMax?: number;
  /** 27.007 <access> of +CSCON <n>=3 (4 E-UTRAN FDD). */
  access: number;
  /** AT+CEDRXS (27.007 §7.40): the <AcT-type> the module has (4 E-UTRAN, 5 E-UTRAN NB-S1); absent = no AT+CEDRXS. */
  edrxActType?: number;
  /** <NW-provided_eDRX_value> and <Paging_time_window> the network grants (+CEDRXP, 4 bits each). */
  edrxNetwork: string;
  edrxPtw: string;
}

const DEFAULTS: RadioSettings = {
  operator: { plmn: '46000', long: 'CHINA MOBILE', short: 'CMCC' },
  otherOperators: [
    { plmn: '46001', long: 'CHN-UNICOM', short: 'UNICOM' },
    { plmn: '46011', long: 'CHN-CT', short: 'CT' },
  ],
  act: 7,
  tac: '1A2B',
  ci: '0C8D7F01',
  apn: 'cmnet',
  ip: '10.68.12.34',
  timeZoneQuarters: 32,
  registration: { '+CREG': 2, '+CEREG': 5 },
  autoActivate: true,
  bootMs: 0,
  bootUrcs: [],
  registrationMs: 0,
  scanMs: 0,
  activateMs: 0,
  deactivateMs: 0,
  simRemovedUrcs: ['+CPIN: NOT READY'],
  simInsertedUrcs: ['+CPIN: READY'],
};

/** Figures a profile's powerSaving block may leave out. */
const POWER_SAVING_DEFAULTS: PowerSavingSettings = { rrcInactivityMs: 20_000, apIdleMs: 5000, access: 4, edrxNetwork: '0101', edrxPtw: '0011' };

/** The profile's radio block over the defaults, then the config file's overrides over that. */
export function radioSettings(profileRadio: unknown, overrides: Partial<RadioSettings> = {}): RadioSettings {
  const p = (typeof profileRadio === 'object' && profileRadio !== null ? profileRadio : {}) as Partial<RadioSettings> & {
    bootUrcs?: (string | { urc: string; afterMs?: number })[];
  };
  const bootUrcs = (p.bootUrcs ?? DEFAULTS.bootUrcs).map((u) => (typeof u === 'string' ? { urc: u, afterMs: 0 } : { urc: u.urc, afterMs: u.afterMs ?? 0 }));
  const merged = { ...DEFAULTS, ...p, bootUrcs, ...stripUndefined(overrides) };
  merged.operator = { ...DEFAULTS.operator, ...p.operator, ...overrides.operator };
  // A partial PSM override (config file radio.psm) keeps the profile's other timer; it cannot give
  // PSM (and AT+CPSMS) to a module whose profile has none.
  merged.psm = p.psm ? { ...p.psm, ...overrides.psm } : undefined;
  if (merged.powerSaving) merged.powerSaving = { ...POWER_SAVING_DEFAULTS, ...(merged.powerSaving as Partial<PowerSavingSettings>) };
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Luhn check digit (ISO/IEC 7812-1), as ICCIDs carry (ITU-T E.118). */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * A 20-digit ICCID (ITU-T E.118: 89 telecom, 86 China, issuer 00) made from the IMEI, so every
 * modem of a --count run has its own SIM and the same modem always the same one.
 */
export function deriveIccid(imei: string): string {
  const body = `898600${imei.slice(1, 14)}`;
  return body + luhnDigit(body);
}

/** A 15-digit IMSI (3GPP TS 23.003 §2.2): the operator's MCC+MNC, then an MSIN from the IMEI. */
export function deriveImsi(plmn: string, imei: string): string {
  return (plmn + imei.slice(-(15 - plmn.length))).slice(0, 15);
}
