/**
 * AT+UART_CUR — current UART configuration, not saved in flash (ESP-AT Basic AT Commands):
 *   AT+UART_CUR?  → +UART_CUR:<baudrate>,<databits>,<stopbits>,<parity>,<flow control>  OK
 *   AT+UART_CUR=… → OK
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';
import { setUart } from './uart.js';

export function uartCurCommand(q: EspAtContext): CommandDef {
  return {
    name: '+UART_CUR',
    read: () => ok(`+UART_CUR:${q.state.uartCur.join(',')}`),
    set: (ctx) => setUart(ctx, (c) => (q.state.uartCur = c)),
  };
}
