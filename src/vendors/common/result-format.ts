/**
 * ATV (ITU-T V.250 §6.2.6, result code format: 1 verbose, 0 numeric), ATQ (§6.2.5, result code
 * suppression), AT&C (§6.2.8, DCD behaviour) and AT&D (§6.2.9, DTR behaviour). A PTY has no DCD
 * or DTR lines, so &C/&D are stored and reported only.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

export function resultFormatCommands(device: Device): { commands: CommandDef[]; reset: () => void } {
  const s = device.engine.settings;
  const lines = { C: 1, D: 2 };
  const flag = (name: 'V' | 'Q', apply: (v: 0 | 1) => void): CommandDef => ({
    name,
    exec: () => {
      apply(0);
      return ok();
    },
    set: (ctx) => {
      const v = ctx.args[0];
      if (v?.kind !== 'int' || (v.value !== 0 && v.value !== 1)) return error(undefined, `AT${name} takes 0 or 1`);
      apply(v.value as 0 | 1);
      return ok();
    },
  });
  const line = (name: 'C' | 'D', max: number): CommandDef => ({
    name: `&${name}`,
    exec: () => {
      lines[name] = 0;
      return ok();
    },
    set: (ctx) => {
      const v = ctx.args[0];
      if (v?.kind !== 'int' || v.value < 0 || v.value > max) return error(undefined, `AT&${name} takes 0-${max}`);
      lines[name] = v.value;
      return ok();
    },
  });
  return {
    commands: [
      flag('V', (v) => {
        s.verbose = v === 1;
      }),
      flag('Q', (v) => {
        s.quiet = v === 1;
      }),
      line('C', 1),
      line('D', 2),
    ],
    reset: () => {
      s.verbose = true;
      s.quiet = false;
      lines.C = 1;
      lines.D = 2;
    },
  };
}
