/**
 * AT+CESQ — extended signal quality (3GPP TS 27.007 §8.69):
 * `+CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>`. On E-UTRAN only <rsrq> and <rsrp> are
 * known (the GSM/UTRAN fields are 99/255). Both follow the AT+CSQ rssi the control API sets:
 * RSRP ≈ RSSI − 20 dB (a 10 MHz cell), RSRQ −10 dB.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

export function cesqCommand(device: Device): CommandDef {
  const net = device.network;
  return {
    name: '+CESQ',
    test: () => ok('+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)'),
    exec: () => {
      if (net.cfun !== 1 || net.rssi === 99) return ok('+CESQ: 99,99,255,255,255,255');
      const rssiDbm = -113 + 2 * net.rssi;
      // <rsrp>: 0 is < −140 dBm, 97 is ≥ −44 dBm, 1 dB steps; <rsrq>: 0 is < −19.5 dB, 0.5 dB steps.
      const rsrp = Math.max(0, Math.min(97, rssiDbm - 20 + 141));
      const rsrq = (-10 + 20) * 2;
      return ok(`+CESQ: 99,99,255,255,${rsrq},${rsrp}`);
    },
  };
}
