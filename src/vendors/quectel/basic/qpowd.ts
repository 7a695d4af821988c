/**
 * AT+QPOWD — power off (Quectel AT commands manuals, "AT+QPOWD"): `AT+QPOWD[=<n>]`, 0 immediate,
 * 1 normal (default). The module answers OK, prints `POWERED DOWN` and goes silent.
 *
 * A PTY has no PWRKEY: vmodem powers the module on again after settings.radio.powerOnAfterMs
 * (the board's supervisor or the firmware toggling PWRKEY), with its boot URCs, as a reset.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function qpowdCommand(device: Device): CommandDef {
  const off = (immediate: boolean) => {
    const after = (device.profile.settings.radio as { powerOnAfterMs?: number } | undefined)?.powerOnAfterMs ?? 1000;
    // An immediate power-off prints nothing after OK (the manual's <n>=0).
    device.reboot?.({ farewell: immediate ? [] : ['POWERED DOWN'], offMs: after });
    return ok();
  };
  return {
    name: '+QPOWD',
    test: () => ok('+QPOWD: (0,1)'),
    exec: () => off(false),
    set: (ctx) => withArgs(ctx, [{ name: 'n', type: 'int', values: [0, 1] }], ([n]) => off(n === 0)),
  };
}
