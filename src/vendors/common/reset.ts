/**
 * ATZ (V.250 §6.1.1) and AT&F (§6.1.2) restore the power-on settings; AT&W stores them
 * (settings here are not persisted across a vmodem restart, so &W only answers OK).
 */
import { ok, type CommandDef } from '../../at/types.js';

export function resetCommands(resetSettings: () => void): CommandDef[] {
  const reset = () => {
    resetSettings();
    return ok();
  };
  return [
    { name: 'Z', exec: reset, set: reset },
    { name: '&F', exec: reset, set: reset },
    { name: '&W', exec: () => ok(), set: () => ok() },
  ];
}
