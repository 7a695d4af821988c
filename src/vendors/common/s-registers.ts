/**
 * S-registers S3 (command line termination, 13), S4 (response formatting, 10) and S5 (editing,
 * 8) of ITU-T V.250 §6.2.1–6.2.3. They can be read; setting them to another character is refused
 * with CME 4 "operation not supported", since the emulated line discipline keeps CR/LF/BS.
 */
import { error, ok, type CommandDef } from '../../at/types.js';

const REGISTERS: Record<string, number> = { S3: 13, S4: 10, S5: 8 };

export function sRegisterCommands(): CommandDef[] {
  return Object.entries(REGISTERS).map(([name, value]) => ({
    name,
    read: () => ok(String(value).padStart(3, '0')),
    set: (ctx) => {
      const v = ctx.args[0];
      if (v?.kind === 'int' && v.value === value) return ok();
      return error(4, `${name} is fixed at ${value}`);
    },
  }));
}
