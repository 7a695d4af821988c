/**
 * The `quectel-nbiot` set: what Quectel NB-IoT modules (BC260Y) add for the bring-up and power
 * saving — AT+QRST, AT+QNBIOTEVENT (PSM reports), AT+QCFG="dsevent" and the deep-sleep reports.
 *
 * Deep sleep (AT+QSCLK=1, entered in PSM: src/modem/power-saving.ts) is reported as
 * `+QNBIOTEVENT: "ENTER DEEPSLEEP"` and, when the module wakes (UART, periodic TAU),
 * `+QNBIOTEVENT: "EXIT DEEPSLEEP"` — unless AT+QCFG="dsevent",0 turned the reports off. Evidence:
 * the BC260Y firmware's own boot and power-down reports (Sys_Up_URC_260 / Sys_Down_URC_260: "EXIT
 * DEEPSLEEP" on a wake from deep sleep, "RDY" on a cold boot, "ENTER DEEPSLEEP" before sleeping,
 * both gated by the "dsevent" switch, on by default), and BC260Y drivers that send
 * AT+QCFG="dsevent",1. The line that wakes the module from deep sleep is lost (BC660K-GL/BC260Y
 * hardware design §3.4.2 "Deep Sleep").
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { qcfgCommand } from './qcfg.js';
import { qnbioteventCommand } from './qnbiotevent.js';
import { qrstCommand } from './qrst.js';

export const QUECTEL_NBIOT_SET_ID = 'quectel-nbiot';

export function quectelNbiotCommandSet(device: Device): CommandSet {
  const qnbiotevent = qnbioteventCommand(device);
  const qcfg = qcfgCommand({ dsevent: { value: '1', params: 1 } });
  device.powerSaving.on('deepSleep', (entered) => {
    if (qcfg.value('dsevent') !== '0') device.urc(`+QNBIOTEVENT: "${entered ? 'ENTER' : 'EXIT'} DEEPSLEEP"`);
  });
  return {
    commands: [qrstCommand(device), qnbiotevent.command, qcfg.command],
    reset: () => {
      qnbiotevent.reset();
      qcfg.reset();
    },
  };
}
