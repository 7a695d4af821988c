/** Quectel basics shared by its modules (not MQTT): AT+QSCLK. */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qsclkCommand } from './qsclk.js';

export function quectelBasicCommandSet(device: Device): CommandSet {
  const qsclk = qsclkCommand(device);
  return { commands: [qsclk.command], reset: qsclk.reset };
}
