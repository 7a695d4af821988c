/** AT+CPIN? — SIM state (3GPP TS 27.007 §8.3). The emulated SIM has no PIN. */
import { ok, type CommandDef } from '../../at/types.js';

export function cpinCommand(): CommandDef {
  return {
    name: '+CPIN',
    test: () => ok(),
    read: () => ok('+CPIN: READY'),
    // Entering a PIN on a SIM that needs none is "operation not allowed".
    set: () => ({ type: 'error', cme: 3, reason: 'SIM needs no PIN' }),
  };
}
