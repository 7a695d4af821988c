/**
 * The 3GPP TS 27.007 / ITU-T V.250 basics every profile shares.
 */
import type { CommandSet, Device } from '../../modem/device.js';
import { cfunCommand } from './cfun.js';
import { cmeeCommand } from './cmee.js';
import { cpinCommand } from './cpin.js';
import { csqCommand } from './csq.js';
import { echoCommand } from './echo.js';
import { identityCommands } from './identity.js';
import { packetDomainCommands } from './packet-domain.js';
import { registrationCommands } from './registration.js';
import { resetCommands } from './reset.js';
import { resultFormatCommands } from './result-format.js';
import { sRegisterCommands } from './s-registers.js';

export interface CommonHooks {
  /** Restore power-on settings of every command set (ATZ, AT&F). */
  resetSettings: () => void;
  /** AT+CFUN=<fun>,1: reset the module. */
  reboot: () => void;
}

export function commonCommandSet(device: Device, hooks: CommonHooks): CommandSet {
  const resultFormat = resultFormatCommands(device);
  return {
    reset: resultFormat.reset,
    commands: [
      echoCommand(device),
      ...resultFormat.commands,
      ...sRegisterCommands(),
      ...identityCommands(device),
      cmeeCommand(device),
      csqCommand(device),
      cpinCommand(device),
      ...registrationCommands(device),
      ...packetDomainCommands(device),
      cfunCommand(device, hooks.reboot),
      ...resetCommands(hooks.resetSettings),
    ],
  };
}
