/**
 * AT+SYSSTORE — query/set the parameter store mode (ESP-AT Basic AT Commands, v2.1+):
 *   AT+SYSSTORE?            → +SYSSTORE:<store_mode>  OK
 *   AT+SYSSTORE=<store_mode> → OK   (0 not stored in flash, 1 stored — the default)
 * With 0, AT+CWJAP joins without replacing the saved configuration.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { espArgs, type EspAtContext } from './context.js';

export function sysstoreCommand(q: EspAtContext): CommandDef {
  return {
    name: '+SYSSTORE',
    read: () => ok(`+SYSSTORE:${q.state.sysstore}`),
    set: (ctx) =>
      espArgs(ctx, [{ name: 'store_mode', type: 'int', values: [0, 1] }], ([mode]) => {
        q.state.sysstore = mode;
        return ok();
      }),
  };
}
