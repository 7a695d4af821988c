/** ATE<value> — command echo (ITU-T V.250 §6.2.4). ATE = ATE0. */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

export function echoCommand(device: Device): CommandDef {
  return {
    name: 'E',
    exec: () => {
      device.engine.settings.echo = false;
      return ok();
    },
    set: (ctx) => {
      const v = ctx.args[0];
      if (v?.kind !== 'int' || (v.value !== 0 && v.value !== 1)) return error(undefined, 'ATE takes 0 or 1');
      device.engine.settings.echo = v.value === 1;
      return ok();
    },
  };
}
