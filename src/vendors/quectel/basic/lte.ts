/**
 * The `quectel-lte` set: what Quectel LTE Standard modules (EC200/EC600/EC800/EG9xx) add for the
 * bring-up — TCP/IP contexts (AT+QICSGP, AT+QIACT, AT+QIDEACT and the `+QIURC: "pdpdeact",<id>`
 * URC when the network deactivates one), network time (AT+QLTS, AT+QNTP), AT+QURCCFG and AT+QCFG.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qcfgCommand, type QcfgOption } from './qcfg.js';
import { qiactCommand } from './qiact.js';
import { qicsgpCommand } from './qicsgp.js';
import { qideactCommand } from './qideact.js';
import { qltsCommand } from './qlts.js';
import { qntpCommand } from './qntp.js';
import { qurccfgCommand } from './qurccfg.js';

export const QUECTEL_LTE_SET_ID = 'quectel-lte';

interface LteData {
  qcfg?: Record<string, QcfgOption>;
  urcport?: string;
}

export function quectelLteCommandSet(device: Device): CommandSet {
  const data = (device.profile.settings[QUECTEL_LTE_SET_ID] ?? {}) as LteData;
  // TCP/IP application note §4 "+QIURC: "pdpdeact",<contextID>": the network deactivated it.
  device.network.on('context', (cid, active, cause) => {
    if (!active && cause === 'network') device.urc(`+QIURC: "pdpdeact",${cid}`);
  });
  const qcfg = qcfgCommand(data.qcfg ?? {});
  const qurccfg = qurccfgCommand(data.urcport);
  return {
    commands: [qicsgpCommand(device), qiactCommand(device), qideactCommand(device), qltsCommand(device), qntpCommand(device), qurccfg.command, qcfg.command],
  };
}
