/**
 * The `cellular` command set: the 3GPP TS 27.007 bring-up commands every cellular profile has on
 * top of `common` — SIM identity, operator selection, extended signal quality, PDP context
 * definition and addresses, packet-domain events, clock and time zone — plus the SIM URCs the
 * profile names (settings.radio.simRemovedUrcs / simInsertedUrcs) when the control API pulls or
 * inserts the SIM, and the power-saving commands the profile's module has (AT+CPSMS, AT+CEDRXS,
 * AT+CSCON). ICCID commands are vendor commands (AT+QCCID, AT+ICCID): see the vendor sets.
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
import { cpsmsCommand } from './cpsms.js';
import { csconCommand } from './cscon.js';
import { cedrxsCommand } from './cedrxs.js';

export const CELLULAR_SET_ID = 'cellular';

export function cellularCommandSet(device: Device): CommandSet {
  const net = device.network;
  net.on('sim', (present) => {
    for (const u of present ? net.radio.simInsertedUrcs : net.radio.simRemovedUrcs) device.urc(u);
  });
  const ctz = ctzCommands(device);
  const cgerep = cgerepCommand(device);
  // Power saving (27.007 §7.38, §7.40, §10.1.30): only what the profile's module has
  // (settings.radio.psm for AT+CPSMS, settings.radio.powerSaving for AT+CSCON / AT+CEDRXS).
  const ps = net.radio.powerSaving;
  const power = [
    ...(net.radio.psm ? [cpsmsCommand(device)] : []),
    ...(ps?.csconMax !== undefined ? [csconCommand(device, ps.csconMax)] : []),
    ...(ps?.edrxActType !== undefined ? [cedrxsCommand(device, ps.edrxActType)] : []),
  ];
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
      ...power.map((p) => p.command),
    ],
    reset: () => {
      ctz.reset();
      cgerep.reset();
      for (const p of power) p.reset();
    },
  };
}
