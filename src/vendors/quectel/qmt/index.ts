/**
 * The Quectel QMT command set as the EC200 (LTE Standard(A)) MQTT application note v1.3
 * describes it: §3.3 commands, §4 URCs.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { QmtClient } from './client.js';
import type { QmtContext, QmtProfileData } from './context.js';
import { qmtcfgCommand } from './qmtcfg.js';
import { qmtcloseCommand } from './qmtclose.js';
import { qmtconnCommand } from './qmtconn.js';
import { qmtdiscCommand } from './qmtdisc.js';
import { qmtopenCommand } from './qmtopen.js';
import { qmtpubCommand } from './qmtpub.js';
import { qmtpubexCommand } from './qmtpubex.js';
import { qmtrecvCommand } from './qmtrecv.js';
import { qmtsubCommand } from './qmtsub.js';
import { qmtunsCommand } from './qmtuns.js';

export const QMT_EC200_SET_ID = 'quectel-qmt-ec200';

export function quectelQmtEc200CommandSet(device: Device): CommandSet {
  const data = device.profile.settings[QMT_EC200_SET_ID] as QmtProfileData | undefined;
  if (!data) throw new Error(`profile ${device.profile.id}: settings["${QMT_EC200_SET_ID}"] missing`);
  const clients = Array.from({ length: data.maxClientIdx + 1 }, (_, i) => new QmtClient(i, device, data));
  const q: QmtContext = { device, data, clients, client: (idx) => clients[idx]! };

  // Losing the network ends every link with "link not working" (§4.1 code 7).
  device.network.on('down', () => {
    for (const c of clients) c.networkLost();
  });

  return {
    commands: [
      qmtcfgCommand(q),
      qmtopenCommand(q),
      qmtcloseCommand(q),
      qmtconnCommand(q),
      qmtdiscCommand(q),
      qmtsubCommand(q),
      qmtunsCommand(q),
      qmtpubexCommand(q),
      qmtpubCommand(q),
      qmtrecvCommand(q),
    ],
    reset: () => {},
    inspect: () => clients.map((c) => c.inspect()),
    dispose: () => {
      for (const c of clients) {
        c.destroy();
        c.resetConfig();
      }
    },
  };
}
