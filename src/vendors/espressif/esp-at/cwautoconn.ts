/**
 * AT+CWAUTOCONN — connect to an AP automatically when powered on (ESP-AT Wi-Fi AT Commands):
 *   AT+CWAUTOCONN?         → +CWAUTOCONN:<enable>  OK
 *   AT+CWAUTOCONN=<enable> → OK   (0 no, 1 yes — the default; saved in flash)
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { espArgs, type EspAtContext } from './context.js';

export function cwautoconnCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CWAUTOCONN',
    read: () => ok(`+CWAUTOCONN:${q.wifi.autoConnect ? 1 : 0}`),
    set: (ctx) =>
      espArgs(ctx, [{ name: 'enable', type: 'int', values: [0, 1] }], ([enable]) => {
        q.wifi.autoConnect = enable === 1;
        return ok();
      }),
  };
}
