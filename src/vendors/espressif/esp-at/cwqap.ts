/**
 * AT+CWQAP — disconnect from an AP (ESP-AT Wi-Fi AT Commands, "AT+CWQAP"):
 *   AT+CWQAP → OK; a station that was connected then reports `WIFI DISCONNECT` (a message after
 *   the OK, as captures of the module show: "AT+CWQAP / OK / WIFI DISCONNECT").
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { EspAtContext } from './context.js';

export function cwqapCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CWQAP',
    exec: () => {
      q.wifi.leave();
      return ok();
    },
  };
}
