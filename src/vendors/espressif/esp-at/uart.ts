/**
 * The UART configuration shared by AT+UART_CUR and AT+UART_DEF (ESP-AT Basic AT Commands):
 * `<baudrate>,<databits>,<stopbits>,<parity>,<flow control>`; baud 80–5000000 on the ESP8266,
 * data bits 5–8, stop bits 1–3 (1, 1.5, 2), parity 0–2, flow control 0–3. The PTY carries bytes
 * at any rate, so a new rate is remembered and reported, not enforced.
 */
import { ok, type CommandContext, type Outcome } from '../../../at/types.js';
import { espArgs } from './context.js';

export type UartConfig = [number, number, number, number, number];

export function setUart(ctx: CommandContext, apply: (c: UartConfig) => void): Outcome | Promise<Outcome> {
  return espArgs(
    ctx,
    [
      { name: 'baudrate', type: 'int', min: 80, max: 5_000_000 },
      { name: 'databits', type: 'int', min: 5, max: 8 },
      { name: 'stopbits', type: 'int', min: 1, max: 3 },
      { name: 'parity', type: 'int', min: 0, max: 2 },
      { name: 'flow control', type: 'int', min: 0, max: 3 },
    ],
    (v) => {
      apply([v[0], v[1], v[2], v[3], v[4]]);
      return ok();
    },
  );
}
