/**
 * AT+QLTS — obtain the latest time synchronized through the network (Quectel LTE Standard AT
 * commands manual, "AT+QLTS"): `AT+QLTS[=<mode>]` → `+QLTS: "yyyy/MM/dd,hh:mm:ss±zz",<dst>`;
 * <mode> 0 the latest network time (UTC), 1 the current GMT, 2 the current local time. Before
 * the network gave a time (never registered) the time is empty: `+QLTS: ""`.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';
import { longTimeText, moduleNow, timeZone } from '../../common/module-time.js';

export function qltsCommand(device: Device): CommandDef {
  const net = device.network;
  let synced = net.registered;
  let syncedAt = moduleNow(device, false);
  net.on('attached', () => {
    synced = true;
    syncedAt = moduleNow(device, false);
  });
  const answer = (mode: number) => {
    if (!synced) return ok('+QLTS: ""');
    const tz = mode === 0 ? net.radio.timeZoneQuarters : timeZone(device);
    const at = mode === 0 ? syncedAt : moduleNow(device);
    return ok(`+QLTS: "${longTimeText(at, tz, mode === 2)}",0`);
  };
  return {
    name: '+QLTS',
    test: () => ok('+QLTS: (0-2)'),
    exec: () => answer(0),
    set: (ctx) => withArgs(ctx, [{ name: 'mode', type: 'int', min: 0, max: 2 }], ([mode]) => answer(mode)),
  };
}
