/**
 * AT+QCFG — extended configuration settings (Quectel LTE Standard AT commands manual, "AT+QCFG"):
 * `AT+QCFG="<option>"[,<value>…]`. The options firmware commonly sets ("nwscanmode",
 * "nwscanseq", "roamservice", "band", "urc/ri/…", "risignaltype", "ims"…) are listed with their
 * power-on values in the profile (settings["quectel-lte"].qcfg: option → value text); each is
 * accepted and read back as `+QCFG: "<option>",<value>`. The radio does not act on them.
 * An option the profile does not list answers ERROR, as the module does for one it lacks.
 */
import { error, ok, type CommandDef } from '../../../at/types.js';

export interface QcfgOption {
  /** The value text as the module prints it after the option name (`0`, `0x1,0x80,0x0`). */
  value: string;
  /** How many parameters make the value (the rest, such as <effect>, are not read back). */
  params: number;
}

export function qcfgCommand(options: Record<string, QcfgOption>): { command: CommandDef; reset: () => void; value: (option: string) => string | undefined } {
  const values = new Map<string, string>();
  const reset = () => {
    values.clear();
    for (const [k, o] of Object.entries(options)) values.set(k, o.value);
  };
  reset();
  return {
    command: {
      name: '+QCFG',
      test: () => ok(...Object.keys(options).map((k) => `+QCFG: "${k}"`)),
      set: (ctx) => {
        const first = ctx.args[0];
        if (first?.kind !== 'string') return error(undefined, 'AT+QCFG needs "<option>"');
        const key = first.value.toLowerCase();
        const opt = options[key];
        if (!opt) return error(undefined, `unknown AT+QCFG option ${key}`);
        if (ctx.args.length === 1) return ok(`+QCFG: "${key}",${values.get(key)}`);
        const given = ctx.args.slice(1, 1 + opt.params);
        if (given.length < opt.params || given.some((a) => a.kind === 'empty')) return error(undefined, `"${key}" takes ${opt.params} value(s)`);
        values.set(key, given.map((a) => a.text).join(','));
        return ok();
      },
    },
    // Saved in NV on the module (most options take effect after a reboot): nothing resets them.
    reset: () => undefined,
    /** The current value text of an option (for sets that act on one, e.g. "dsevent"). */
    value: (option) => values.get(option.toLowerCase()),
  };
}
