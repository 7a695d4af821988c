/**
 * The module's real-time clock, shared by AT+CCLK, AT+QLTS and AT+QNTP: the network's time
 * (NITZ, the host's wall clock here) moving on the modem's injected clock, plus whatever offset
 * AT+CCLK set. Time zone in quarters of an hour (27.007 §8.15 <tz>), from settings.radio.
 */
import type { Device } from '../../modem/device.js';

interface Rtc {
  /** Wall-clock ms at `at` (module clock ms). */
  base: number;
  at: number;
  /** AT+CCLK's correction, ms. */
  offset: number;
  tzQuarters: number;
}

const clocks = new WeakMap<Device, Rtc>();

function rtc(device: Device): Rtc {
  let r = clocks.get(device);
  if (!r) {
    r = { base: Date.now(), at: device.clock.now(), offset: 0, tzQuarters: device.network.radio.timeZoneQuarters };
    clocks.set(device, r);
  }
  return r;
}

/** UTC ms now on the module. */
export function moduleNow(device: Device, withOffset = true): number {
  const r = rtc(device);
  return r.base + (device.clock.now() - r.at) + (withOffset ? r.offset : 0);
}

export function timeZone(device: Device): number {
  return rtc(device).tzQuarters;
}

/** AT+CCLK=<time>: the module's clock now reads `utcMs` in zone `tzQuarters`. */
export function setModuleTime(device: Device, utcMs: number, tzQuarters: number): void {
  const r = rtc(device);
  r.offset = utcMs - moduleNow(device, false);
  r.tzQuarters = tzQuarters;
}

/** Back to the network's time (NTP sync, NITZ). */
export function syncModuleTime(device: Device): void {
  const r = rtc(device);
  r.offset = 0;
  r.tzQuarters = device.network.radio.timeZoneQuarters;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const tzText = (q: number) => `${q < 0 ? '-' : '+'}${pad(Math.abs(q))}`;

/** Local date and time parts of `utcMs` in zone `tzQuarters`. */
export function localParts(utcMs: number, tzQuarters: number) {
  const d = new Date(utcMs + tzQuarters * 15 * 60_000);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds() };
}

/** `yy/MM/dd,hh:mm:ss±zz` (27.007 §8.15). */
export function cclkText(utcMs: number, tzQuarters: number): string {
  const p = localParts(utcMs, tzQuarters);
  return `${pad(p.y % 100)}/${pad(p.mo)}/${pad(p.d)},${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${tzText(tzQuarters)}`;
}

/** `yyyy/MM/dd,hh:mm:ss±zz` (Quectel AT+QLTS / +QNTP), of UTC or of local time. */
export function longTimeText(utcMs: number, tzQuarters: number, local: boolean): string {
  const p = localParts(utcMs, local ? tzQuarters : 0);
  return `${p.y}/${pad(p.mo)}/${pad(p.d)},${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${tzText(tzQuarters)}`;
}

/** Parse `yy/MM/dd,hh:mm:ss±zz` into UTC ms and zone; undefined when malformed. */
export function parseCclk(text: string): { utcMs: number; tzQuarters: number } | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{2}),(\d{2}):(\d{2}):(\d{2})([+-]\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, tz] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || Math.abs(tz) > 96) return undefined;
  const local = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  return { utcMs: local - tz * 15 * 60_000, tzQuarters: tz };
}
