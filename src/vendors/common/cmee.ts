/** AT+CMEE — report mobile termination error (3GPP TS 27.007 §9.1): 0 ERROR, 1 numeric, 2 verbose. */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function cmeeCommand(device: Device): CommandDef {
  const s = device.engine.settings;
  return {
    name: '+CMEE',
    test: () => ok('+CMEE: (0-2)'),
    read: () => ok(`+CMEE: ${s.cmee}`),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'n', type: 'int', values: [0, 1, 2] }], ([n]) => {
        s.cmee = n;
        return ok();
      }),
  };
}
