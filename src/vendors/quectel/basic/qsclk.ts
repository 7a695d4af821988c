/**
 * AT+QSCLK — configure sleep mode (Quectel AT command manuals): 0 disable, 1 DTR-controlled
 * sleep, 2 auto sleep. The emulated module never sleeps; the setting is kept and reported.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function qsclkCommand(_device: Device): { command: CommandDef; reset: () => void } {
  let mode = 0;
  return {
    command: {
      name: '+QSCLK',
      test: () => ok('+QSCLK: (0-2)'),
      read: () => ok(`+QSCLK: ${mode}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'n', type: 'int', min: 0, max: 2 }], ([n]) => {
          mode = n;
          return ok();
        }),
    },
    reset: () => {
      mode = 0;
    },
  };
}
