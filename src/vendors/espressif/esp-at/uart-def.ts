/**
 * AT+UART_DEF — default UART configuration, saved in flash (ESP-AT Basic AT Commands):
 *   AT+UART_DEF?  → +UART_DEF:<baudrate>,<databits>,<stopbits>,<parity>,<flow control>  OK
 *   AT+UART_DEF=… → OK (takes effect now and after restarts; AT+RESTORE goes back to 115200)
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';
import { setUart } from './uart.js';

export function uartDefCommand(q: EspAtContext): CommandDef {
  return {
    name: '+UART_DEF',
    read: () => ok(`+UART_DEF:${q.state.uartDef.join(',')}`),
    set: (ctx) =>
      setUart(ctx, (c) => {
        q.state.uartDef = c;
        q.state.uartCur = [...c];
      }),
  };
}
