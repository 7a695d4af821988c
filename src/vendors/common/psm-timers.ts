/**
 * The PSM timers as AT+CPSMS and AT+CEREG print them: one byte as 8 binary digits, 3GPP TS 24.008
 * §10.5.7.4 (GPRS Timer 2: T3324 active time) and §10.5.7.4a (GPRS Timer 3: T3412 extended,
 * periodic TAU). Bits 8–6 are the unit, bits 5–1 the value (0–31).
 */

/** T3324 units: 000 2 s, 001 1 min, 010 decihours (6 min). */
const T3324_UNITS: [bits: number, seconds: number][] = [
  [0b000, 2],
  [0b001, 60],
  [0b010, 360],
];

/** T3412 extended units: 011 2 s, 100 30 s, 101 1 min, 000 10 min, 001 1 h, 010 10 h, 110 320 h. */
const T3412_UNITS: [bits: number, seconds: number][] = [
  [0b011, 2],
  [0b100, 30],
  [0b101, 60],
  [0b000, 600],
  [0b001, 3600],
  [0b010, 36000],
  [0b110, 1152000],
];

function encode(seconds: number, units: [number, number][]): string {
  // The coarsest unit that holds the value exactly (60 s is "1 minute", as modules print it),
  // else the finest that holds it at all (rounded).
  const exact = [...units].reverse().find(([, s]) => seconds % s === 0 && seconds / s <= 31);
  const [bits, s] = exact ?? units.find(([, u]) => Math.round(seconds / u) <= 31) ?? units[units.length - 1]!;
  const value = Math.min(31, Math.round(seconds / s));
  return ((bits << 5) | value).toString(2).padStart(8, '0');
}

function decode(byte: string, units: [number, number][]): number | undefined {
  if (!/^[01]{8}$/.test(byte)) return undefined;
  const v = parseInt(byte, 2);
  const unit = units.find(([bits]) => bits === v >> 5);
  return unit ? unit[1] * (v & 0x1f) : undefined;
}

export const encodeT3324 = (seconds: number): string => encode(seconds, T3324_UNITS);
export const encodeT3412 = (seconds: number): string => encode(seconds, T3412_UNITS);
/** Seconds, or undefined for a malformed byte or the "deactivated" unit (111). */
export const decodeT3324 = (byte: string): number | undefined => decode(byte, T3324_UNITS);
export const decodeT3412 = (byte: string): number | undefined => decode(byte, T3412_UNITS);
