/**
 * AT+CTZU — automatic time zone update (3GPP TS 27.007 §8.40) and AT+CTZR — time zone reporting
 * (§8.41). With CTZR=1 a registration reports `+CTZV: <tz>`; with 2 `+CTZE: "<tz>",<dst>,"<time>"`
 * (local time `yyyy/MM/dd,hh:mm:ss`). CTZU=1 sets the module clock from the network (NITZ) then.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { withArgs } from './decode.js';
import { localParts, moduleNow, syncModuleTime, tzText } from './module-time.js';

export function ctzCommands(device: Device): { commands: CommandDef[]; reset: () => void } {
  const net = device.network;
  let ctzu = 1;
  let ctzr = 0;
  net.on('attached', () => {
    if (ctzu === 1) syncModuleTime(device);
    const tz = net.radio.timeZoneQuarters;
    if (ctzr === 1) device.urc(`+CTZV: ${tzText(tz)}`);
    if (ctzr === 2) {
      const p = localParts(moduleNow(device), tz);
      const pad = (n: number) => String(n).padStart(2, '0');
      device.urc(`+CTZE: "${tzText(tz)}",0,"${p.y}/${pad(p.mo)}/${pad(p.d)},${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}"`);
    }
  });
  const flag = (name: string, get: () => number, put: (v: number) => void, max: number): CommandDef => ({
    name,
    test: () => ok(`${name}: (0-${max})`),
    read: () => ok(`${name}: ${get()}`),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'value', type: 'int', min: 0, max }], ([v]) => {
        put(v);
        return ok();
      }),
  });
  return {
    commands: [
      flag('+CTZU', () => ctzu, (v) => (ctzu = v), 1),
      flag('+CTZR', () => ctzr, (v) => (ctzr = v), 2),
    ],
    reset: () => {
      ctzr = 0;
    },
  };
}
