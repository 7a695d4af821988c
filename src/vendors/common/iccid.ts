/**
 * AT+ICCID — read the SIM's ICCID, as modules without AT+CCID name it (OneMO ML307R, YUGE CLM920):
 * `+ICCID: <ICCID>` (real ML307R captures; YUGE drivers parse "ICCID:"). A vendor command, not
 * 27.007: each vendor set that has it includes it.
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { CME_SIM_NOT_INSERTED } from './cpin.js';

export function iccidCommand(device: Device, name = '+ICCID'): CommandDef {
  const net = device.network;
  return {
    name,
    test: () => ok(),
    exec: () => (net.simPresent ? ok(`${name}: ${net.iccid}`) : error(CME_SIM_NOT_INSERTED, 'SIM not inserted')),
  };
}
