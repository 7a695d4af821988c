/**
 * AT+CPIN — enter PIN / SIM state (3GPP TS 27.007 §8.3). The emulated SIM has no PIN: READY when
 * it is in its holder, "+CME ERROR: 10" (SIM not inserted, §9.2.1) when the control API pulled it.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

/** 27.007 §9.2.1: 10 "SIM not inserted". */
export const CME_SIM_NOT_INSERTED = 10;

export function cpinCommand(device?: Device): CommandDef {
  const present = () => device?.network.simPresent ?? true;
  return {
    name: '+CPIN',
    test: () => ok(),
    read: () => (present() ? ok('+CPIN: READY') : error(CME_SIM_NOT_INSERTED, 'SIM not inserted')),
    // Entering a PIN on a SIM that needs none is "operation not allowed".
    set: () => (present() ? { type: 'error', cme: 3, reason: 'SIM needs no PIN' } : error(CME_SIM_NOT_INSERTED, 'SIM not inserted')),
  };
}
