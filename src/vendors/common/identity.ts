/**
 * Identification: ATI (V.250 §6.1.3), AT+CGMI/+GMI, AT+CGMM/+GMM, AT+CGMR/+GMR,
 * AT+CGSN/+GSN (3GPP TS 27.007 §5.1–5.4). Strings come from the profile.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';

export function identityCommands(device: Device): CommandDef[] {
  const id = device.profile.identity;
  const plain = (name: string, alias: string, value: () => string): CommandDef => ({
    name,
    aliases: [alias],
    test: () => ok(),
    exec: () => ok(value()),
  });
  return [
    { name: 'I', exec: () => ok(...id.ati), set: () => ok(...id.ati) },
    plain('+CGMI', '+GMI', () => id.manufacturer),
    plain('+CGMM', '+GMM', () => id.model),
    plain('+CGMR', '+GMR', () => id.revision),
    {
      ...plain('+CGSN', '+GSN', () => device.imei),
      // 27.007 Rel-12: AT+CGSN=1 → +CGSN: "<IMEI>"; =0 → serial number (the IMEI here).
      set: (ctx) => {
        const v = ctx.args[0];
        if (v?.kind === 'int' && v.value === 1) return ok(`+CGSN: "${device.imei}"`);
        if (v?.kind === 'int' && v.value === 0) return ok(device.imei);
        return { type: 'error', cme: 50, reason: 'AT+CGSN=<snt> takes 0 or 1' };
      },
    },
  ];
}
