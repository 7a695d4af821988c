/**
 * AT+CIPMODE — query/set the transmission mode (ESP-AT TCP/IP AT Commands, "AT+CIPMODE"):
 *   AT+CIPMODE?       → +CIPMODE:<mode>  OK
 *   AT+CIPMODE=<mode> → OK   (0 normal, 1 Wi-Fi passthrough)
 * Tencent drivers send AT+CIPMODE=0 during bring-up (FACTS); the virtual module keeps the value
 * (it has no raw TCP sockets to pass through).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { espArgs, type EspAtContext } from './context.js';

export function cipmodeCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CIPMODE',
    read: () => ok(`+CIPMODE:${q.state.cipmode}`),
    set: (ctx) =>
      espArgs(ctx, [{ name: 'mode', type: 'int', values: [0, 1] }], ([mode]) => {
        q.state.cipmode = mode;
        return ok();
      }),
  };
}
