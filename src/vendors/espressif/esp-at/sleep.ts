/**
 * AT+SLEEP — set the sleep mode (ESP-AT Basic AT Commands, "AT+SLEEP"):
 *   AT+SLEEP?            → +SLEEP:<sleep mode>  OK
 *   AT+SLEEP=<sleep mode> → OK   (0 disabled, 1 light sleep, 2 modem sleep — the default)
 * The virtual module answers at once in every mode.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { espArgs, type EspAtContext } from './context.js';

export function sleepCommand(q: EspAtContext): CommandDef {
  return {
    name: '+SLEEP',
    read: () => ok(`+SLEEP:${q.state.sleep}`),
    set: (ctx) =>
      espArgs(ctx, [{ name: 'sleep mode', type: 'int', values: [0, 1, 2] }], ([mode]) => {
        q.state.sleep = mode;
        return ok();
      }),
  };
}
