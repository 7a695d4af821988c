/**
 * The QMT command set of the Quectel BC260Y-CN (NB-IoT), as "BC260Y-CN MQTT 应用指导" v1.0
 * (2021-02-05) describes it: §3.3 commands, §4 error codes, §5 URCs.
 *
 * The client state machine, result codes, +QMTSTAT causes and the +QMTRECV format are the QMT
 * family's (../qmt/client.ts); this set brings the BC260Y's own commands (nine QMTCFG options,
 * AT+QMTPUB in three forms, five clients), its CME error codes and the dialect built from the
 * profile (+QMTPUB results, no +QMTPING, +QMTUNS without <value>, CONNACK wait
 * <pkttimeout> × (<retry_times> + 1), +QMTCLOSE -1 on an idle index).
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qsclkCommand } from '../basic/qsclk.js';
import { QmtClient } from '../qmt/client.js';
import { bc260yDialect, readBc260yData, type Bc260yContext } from './data.js';
import { qmtcfgCommand } from './qmtcfg.js';
import { qmtcloseCommand } from './qmtclose.js';
import { qmtconnCommand } from './qmtconn.js';
import { qmtdiscCommand } from './qmtdisc.js';
import { qmtopenCommand } from './qmtopen.js';
import { qmtpubCommand } from './qmtpub.js';
import { qmtsubCommand } from './qmtsub.js';
import { qmtunsCommand } from './qmtuns.js';

export { QMT_BC260Y_SET_ID } from './data.js';

export function quectelQmtBc260yCommandSet(device: Device): CommandSet {
  const data = readBc260yData(device);
  const dialect = bc260yDialect(data);
  const clients = Array.from({ length: data.maxClientIdx + 1 }, (_, i) => new QmtClient(i, device, data, dialect));
  const q: Bc260yContext = { device, data, clients, client: (idx) => clients[idx]! };

  // Losing the network ends every link with "链路不工作或者服务器不可用" (§5.1 table 4, code 7).
  device.network.on('down', () => {
    for (const c of clients) c.networkLost();
  });

  // AT+QSCLK as in the Quectel basics; §6.1 opens with `AT+QSCCLK=0` (a slip of the manual, the
  // same example ends with AT+QSCLK=1), so that spelling is accepted too.
  const qsclk = qsclkCommand(device);

  return {
    commands: [
      { ...qsclk.command, aliases: ['+QSCCLK'] },
      qmtcfgCommand(q),
      qmtopenCommand(q),
      qmtcloseCommand(q),
      qmtconnCommand(q),
      qmtdiscCommand(q),
      qmtsubCommand(q),
      qmtunsCommand(q),
      qmtpubCommand(q),
    ],
    reset: qsclk.reset,
    inspect: () => clients.map((c) => c.inspect()),
    dispose: () => {
      for (const c of clients) {
        c.destroy();
        c.resetConfig();
      }
    },
  };
}
