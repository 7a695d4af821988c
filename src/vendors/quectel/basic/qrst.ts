/**
 * AT+QRST — reset the module (Quectel NB-IoT AT commands manuals, "AT+QRST"): `AT+QRST=1`
 * answers OK, then the module restarts: silent for its boot time, then its boot URCs.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function qrstCommand(device: Device): CommandDef {
  return {
    name: '+QRST',
    test: () => ok('+QRST: (1)'),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'mode', type: 'int', values: [1] }], () => {
        device.reboot?.();
        return ok();
      }),
  };
}
