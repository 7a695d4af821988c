/**
 * AT+CGEREP — packet domain event reporting (3GPP TS 27.007 §10.1.19): with <mode> 1 or 2 the
 * module reports `+CGEV: NW PDN DEACT <cid>` when the network deactivates a context (Rel-10 form)
 * and `+CGEV: NW DETACH` when it detaches the module. <bfr> is accepted and kept.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function cgerepCommand(device: Device): { command: CommandDef; reset: () => void } {
  const net = device.network;
  let mode = 0;
  let bfr = 0;
  net.on('context', (cid, active, cause) => {
    if (mode > 0 && !active && cause === 'network') device.urc(`+CGEV: NW PDN DEACT ${cid}`);
  });
  return {
    command: {
      name: '+CGEREP',
      test: () => ok('+CGEREP: (0-2),(0,1)'),
      read: () => ok(`+CGEREP: ${mode},${bfr}`),
      set: (ctx) =>
        withArgs(
          ctx,
          [
            { name: 'mode', type: 'int', min: 0, max: 2 },
            { name: 'bfr', type: 'int', min: 0, max: 1, optional: true },
          ],
          ([m, b]) => {
            mode = m;
            if (b !== undefined) bfr = b;
            return ok();
          },
        ),
    },
    reset: () => {
      mode = 0;
      bfr = 0;
    },
  };
}
