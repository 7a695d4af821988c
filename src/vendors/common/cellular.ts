/**
 * The `cellular` command set: the 3GPP TS 27.007 bring-up commands every cellular profile has on
 * top of `common` — SIM identity, operator selection, extended signal quality, PDP context
 * definition and addresses, packet-domain events, clock and time zone — plus the SIM URCs the
 * profile names (settings.radio.simRemovedUrcs / simInsertedUrcs) when the control API pulls or
 * inserts the SIM. ICCID commands are vendor commands (AT+QCCID, AT+ICCID): see the vendor sets.
 */
import type { CommandSet, Device } from '../../modem/device.js';
import { cclkCommand } from './cclk.js';
import { cesqCommand } from './cesq.js';
import { cgdcontCommand } from './cgdcont.js';
import { cgerepCommand } from './cgerep.js';
import { cgpaddrCommand } from './cgpaddr.js';
import { cimiCommand } from './cimi.js';
import { copsCommand } from './cops.js';
import { ctzCommands } from './ctz.js';

export const CELLULAR_SET_ID = 'cellular';

export function cellularCommandSet(device: Device): CommandSet {
  const net = device.network;
  net.on('sim', (present) => {
    for (const u of present ? net.radio.simInsertedUrcs : net.radio.simRemovedUrcs) device.urc(u);
  });
  const ctz = ctzCommands(device);
  const cgerep = cgerepCommand(device);
  return {
    commands: [
      cimiCommand(device),
      copsCommand(device),
      cesqCommand(device),
      cgdcontCommand(device),
      cgpaddrCommand(device),
      cgerep.command,
      cclkCommand(device),
      ...ctz.commands,
    ],
    reset: () => {
      ctz.reset();
      cgerep.reset();
    },
  };
}
