/**
 * How the Tencent IoT AT set prints (腾讯云 IoT MQTT AT 指令 V3.1.3 §1.2).
 *
 * - §1.2.4: whether a space follows the colon is the module's choice ("模组可根据其 AT 指令惯例来
 *   确定是否需要空格"). Tencent's QCloud AT firmware on the ESP8266 prints none
 *   (`+TCMQTTCONN:OK`, `+TCMQTTRCVPUB:"…"`); the profile's `colonSpace` decides.
 * - §1.2.3: string values are quoted, numbers are not.
 * - §1.2.6: the BCC checksum is the XOR of the bytes, printed in decimal.
 */
import type { Line } from '../../at/types.js';

export class TcFormat {
  constructor(private readonly colonSpace: boolean) {}

  /** `+NAME:rest` (or `+NAME: rest`). `name` is given without the `+`. */
  line(name: string, rest: string): string {
    return `+${name}:${this.colonSpace ? ' ' : ''}${rest}`;
  }

  /** `+NAME:OK` — a command's result after its `OK` (§1.2.3 examples). */
  ok(name: string): string {
    return this.line(name, 'OK');
  }

  /** `+NAME:FAIL,<err_code>`. */
  fail(name: string, code: number): string {
    return this.line(name, `FAIL,${code}`);
  }

  /** A line with raw bytes in it (received payloads): `+NAME:` + the parts, bytes as they are. */
  binary(name: string, ...parts: (string | Buffer)[]): Line {
    return Buffer.concat([Buffer.from(this.line(name, ''), 'latin1'), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p))]);
  }
}

/** A string value as the module prints it (§1.2.3): in double quotes, bytes as they are. */
export function quote(text: string): string {
  return `"${text}"`;
}

/** §1.2.6 CalcCheck: XOR of all bytes, in decimal. */
export function bcc(text: string): number {
  const bytes = Buffer.from(text, 'latin1');
  let result = bytes[0] ?? 0;
  for (let i = 1; i < bytes.length; i++) result ^= bytes[i]!;
  return result;
}

/**
 * A quoted AT+TCMQTTPUB message (or AT+TCMQTTPUBL data) as the driver typed it, to the bytes
 * published. On the ESP8266 drivers escape `"` as `\"` and `,` as `\,` (and a backslash as `\\`),
 * as the ESP-AT command parser the QCloud firmware is built on requires; the module publishes the
 * unescaped text. Which characters are escaped is the module's (profile `payloadEscapes`:
 * Tencent's module test tool escapes `"` and `,` for the ESP8266, `"` only for cellular modules
 * such as Neoway's N21 — QCloud_IoT_AT_Test_Tool/Tool_Config.ini `add_escapes`). Any other
 * backslash is kept as typed.
 */
export function unescapePayload(typed: string | Buffer, escapes = '",\\'): Buffer {
  const out: number[] = [];
  const bytes = typeof typed === 'string' ? Buffer.from(typed, 'latin1') : typed;
  const escaped = new Set([...Buffer.from(escapes, 'latin1')]);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const next = bytes[i + 1];
    if (b === 0x5c && next !== undefined && escaped.has(next)) {
      out.push(next);
      i++;
      continue;
    }
    out.push(b);
  }
  return Buffer.from(out);
}

export { textFromAt, textToAt } from '../../at/text.js';

