/**
 * AT+CREG (3GPP TS 27.007 §7.2) and AT+CEREG (§10.1.22): network registration, with the
 * unsolicited `+CREG: <stat>` / `+CEREG: <stat>` when <n>=1 and the state changes.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function registrationCommands(device: Device): CommandDef[] {
  const net = device.network;
  let lastStat = net.regStat;
  net.on('change', () => {
    const stat = net.regStat;
    if (stat === lastStat) return;
    lastStat = stat;
    if (net.cregMode > 0) device.urc(`+CREG: ${stat}`);
    if (net.ceregMode > 0) device.urc(`+CEREG: ${stat}`);
  });
  const make = (name: '+CREG' | '+CEREG', key: 'cregMode' | 'ceregMode', max: number): CommandDef => ({
    name,
    test: () => ok(`${name}: (0-${max})`),
    read: () => ok(`${name}: ${net[key]},${net.regStat}`),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'n', type: 'int', min: 0, max }], ([n]) => {
        net[key] = n as number;
        return ok();
      }),
  });
  return [make('+CREG', 'cregMode', 2), make('+CEREG', 'ceregMode', 5)];
}
