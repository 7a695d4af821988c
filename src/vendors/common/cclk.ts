/**
 * AT+CCLK — clock (3GPP TS 27.007 §8.15): `+CCLK: "yy/MM/dd,hh:mm:ss±zz"`, local time and the
 * zone in quarters of an hour. The clock is the network's time moving on the modem's clock
 * (module-time.ts); the set form corrects it.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';
import { cclkText, moduleNow, parseCclk, setModuleTime, timeZone } from './module-time.js';

export function cclkCommand(device: Device): CommandDef {
  return {
    name: '+CCLK',
    test: () => ok(),
    read: () => ok(`+CCLK: "${cclkText(moduleNow(device), timeZone(device))}"`),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'time', type: 'string', maxLength: 24 }], ([time]) => {
        const t = parseCclk(time);
        if (!t) return error(50, 'time is "yy/MM/dd,hh:mm:ss±zz"');
        setModuleTime(device, t.utcMs, t.tzQuarters);
        return ok();
      }),
  };
}
