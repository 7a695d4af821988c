/**
 * AT+QNBIOTEVENT — enable/disable NB-IoT event reports (Quectel NB-IoT AT commands manuals, BC26
 * "AT+QNBIOTEVENT"): `AT+QNBIOTEVENT=<enable>,<event_type>`, <event_type> 1 = PSM state. Enabled,
 * the module reports `+QNBIOTEVENT: "ENTER PSM"` when T3324 expires and `+QNBIOTEVENT: "EXIT PSM"`
 * when it leaves PSM (uplink data or the periodic TAU). BC260Y drivers send AT+QNBIOTEVENT=1,1
 * in their bring-up and match both lines (evidence in the profile notes). Off after a reset.
 *
 *   AT+QNBIOTEVENT? → +QNBIOTEVENT: <enable>,1 · AT+QNBIOTEVENT=? → +QNBIOTEVENT: (0,1),(1)
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Device } from '../../../modem/device.js';
import { withArgs } from '../../common/decode.js';

export function qnbioteventCommand(device: Device): { command: CommandDef; reset: () => void } {
  let enabled = false;
  device.powerSaving.on('psm', (entered) => {
    if (enabled) device.urc(`+QNBIOTEVENT: "${entered ? 'ENTER' : 'EXIT'} PSM"`);
  });
  return {
    command: {
      name: '+QNBIOTEVENT',
      test: () => ok('+QNBIOTEVENT: (0,1),(1)'),
      read: () => ok(`+QNBIOTEVENT: ${enabled ? 1 : 0},1`),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'enable', type: 'int', values: [0, 1] },
            { name: 'event_type', type: 'int', values: [1] },
          ],
          ([e]) => {
            enabled = e === 1;
            return ok();
          },
        ),
    },
    reset: () => {
      enabled = false;
    },
  };
}
