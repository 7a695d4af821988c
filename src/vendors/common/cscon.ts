/**
 * AT+CSCON — signalling connection status (3GPP TS 27.007 §10.1.30): whether the module has an
 * RRC connection (<mode> 1 connected, 0 idle), with the unsolicited `+CSCON: <mode>[,<state>
 * [,<access>]]` on every change when <n> > 0. <state> 7 is "E-UTRAN connected", <access> the
 * radio access (settings.radio.powerSaving.access: 4 E-UTRAN FDD); both only while connected.
 * The connection follows data (src/modem/power-saving.ts): up with traffic, released by the
 * network after rrcInactivityMs without any.
 *
 *   AT+CSCON=<n> · AT+CSCON? → +CSCON: <n>,<mode>[,<state>[,<access>]] · AT+CSCON=? → +CSCON: (0-<max>)
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';

export function csconCommand(device: Device, max: number): { command: CommandDef; reset: () => void } {
  const ps = device.powerSaving;
  const access = () => device.network.radio.powerSaving?.access ?? 4;
  let n = 0;
  const fields = (mode: 0 | 1, upTo: number): string => {
    const out = [String(mode)];
    if (mode === 1 && upTo >= 2) out.push('7');
    if (mode === 1 && upTo >= 3) out.push(String(access()));
    return out.join(',');
  };
  ps.on('rrc', (mode) => {
    if (n > 0) device.urc(`+CSCON: ${fields(mode, n)}`);
  });
  return {
    command: {
      name: '+CSCON',
      test: () => ok(`+CSCON: (0-${max})`),
      read: () => ok(`+CSCON: ${n},${fields(ps.rrc, n)}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'n', type: 'int', min: 0, max, optional: true }], ([v]) => {
          n = v ?? 0;
          return ok();
        }),
    },
    reset: () => {
      n = 0;
    },
  };
}
