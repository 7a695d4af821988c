/**
 * AT+QSCLK — configure sleep mode (Quectel AT command manuals): 0 disable, 1 DTR-controlled
 * sleep (NB-IoT: deep sleep allowed), 2 auto sleep (NB-IoT: light sleep only). The value lives in
 * the modem's power-saving model (device.powerSaving.sleepMode), shared by every set that has
 * the command: a module with PSM (settings.radio.powerSaving) enters deep sleep in PSM with 1
 * (src/modem/power-saving.ts); the others only keep and report it.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function qsclkCommand(device: Device): { command: CommandDef; reset: () => void } {
  const ps = device.powerSaving;
  return {
    command: {
      name: '+QSCLK',
      test: () => ok('+QSCLK: (0-2)'),
      read: () => ok(`+QSCLK: ${ps.sleepMode}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'n', type: 'int', min: 0, max: 2 }], ([n]) => {
          ps.setSleepMode(n);
          return ok();
        }),
    },
    reset: () => {
      ps.setSleepMode(0);
    },
  };
}
