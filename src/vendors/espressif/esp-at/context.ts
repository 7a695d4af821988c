/**
 * What every ESP-AT command file shares: the device, its Wi-Fi station (src/modem/wifi-station.ts),
 * the profile's data for the set (profiles/<id>.json → settings["esp-at"]) and the set's RAM state.
 * Source: Espressif's ESP-AT User Guide for the ESP8266, v2.x command set (release/v2.1.0.0_esp8266,
 * release/v2.2.0.0_esp8266: "Basic AT Commands", "Wi-Fi AT Commands", "TCP/IP AT Commands").
 */
import { error, type CommandContext, type Outcome } from '../../../at/types.js';
import { decodeArgs, type DecodedOf, type ParamSpec } from '../../../at/decode-args.js';
import type { Device } from '../../../modem/device.js';
import type { WifiStation } from '../../../modem/wifi-station.js';

export const ESP_AT_SET_ID = 'esp-at';

/** settings["esp-at"]. */
export interface EspAtProfileData {
  /** AT+GMR lines (AT version, SDK version, compile time, Bin version). */
  gmr: string[];
  /** AT+UART_CUR/AT+UART_DEF at power-on: baud rate, data bits, stop bits, parity, flow control. */
  uart: [number, number, number, number, number];
  /**
   * The final result code after `+CWJAP:<error code>`. ESP-AT v2.x prints `ERROR` (esp_at.h:
   * ESP_AT_RESULT_CODE_FAIL renders "ERROR"); the v1.x NonOS AT printed `FAIL`.
   */
  cwjapFailFinal: 'ERROR' | 'FAIL';
  /** AT+SYSRAM?: current free heap and its minimum, bytes. */
  sysram: [number, number];
}

/** RAM state of the set (power-on values come back with a restart). */
export interface EspAtState {
  /** AT+CWMODE: 0 off, 1 station, 2 SoftAP, 3 both. */
  mode: 0 | 1 | 2 | 3;
  /** AT+CIPMODE: 0 normal, 1 passthrough. */
  cipmode: 0 | 1;
  /** AT+SLEEP: 0 off, 1 light, 2 modem (the ESP8266 default). */
  sleep: 0 | 1 | 2;
  /** AT+SYSSTORE: settings go to flash (default 1). */
  sysstore: 0 | 1;
  uartCur: [number, number, number, number, number];
  uartDef: [number, number, number, number, number];
  /** AT+CWJAP is in progress: its `WIFI …` messages belong to its response, not to URCs. */
  joining: boolean;
}

export interface EspAtContext {
  readonly device: Device;
  readonly wifi: WifiStation;
  readonly data: EspAtProfileData;
  readonly state: EspAtState;
  /** Restart the module (AT+RST, AT+RESTORE): OK first, then boot. */
  restart(): void;
}

/** ESP-AT answers a malformed command with a plain `ERROR`. */
export function espArgs<const Ps extends readonly ParamSpec[]>(
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  const r = decodeArgs(params, ctx.args);
  if (!r.ok) return error(undefined, r.problem);
  return run(r.values);
}

/**
 * ESP-AT's escape syntax inside quoted strings (AT Command Set "AT Command Types": `\,`, `\"`,
 * `\\`): the parser keeps the backslash in the value; the command takes the character after it.
 */
export function unescapeEsp(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

export const quote = (s: string): string => `"${s}"`;
