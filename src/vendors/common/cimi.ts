/** AT+CIMI — request international mobile subscriber identity (3GPP TS 27.007 §5.6): the bare IMSI. */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { CME_SIM_NOT_INSERTED } from './cpin.js';

export function cimiCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+CIMI',
    test: () => ok(),
    exec: () => (net.simPresent ? ok(net.imsi) : error(CME_SIM_NOT_INSERTED, 'SIM not inserted')),
  };
}
