/**
 * Network registration: AT+CREG (3GPP TS 27.007 §7.2), AT+CGREG (§10.1.20) and AT+CEREG
 * (§10.1.22), each with the <n> values the module has (settings.radio.registration: the highest
 * <n> per command; a command absent there is not on the module).
 *
 *   <n>=1 +CEREG: <stat>
 *   <n>=2 …,[<tac>],[<ci>],[<AcT>]            location, when registered
 *   <n>=3 …[,<cause_type>,<reject_cause>]     the reject cause, when denied
 *   <n>=4 …,,,[<Active-Time>],[<Periodic-TAU>] the PSM timers the network granted (CEREG only)
 *   <n>=5 both
 *
 * The read form prints `<n>,<stat>…`; the URC the same without <n>, on every change of <stat>.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import type { NetworkState } from '../../modem/network-state.js';
import { withArgs } from './decode.js';
import { encodeT3324, encodeT3412 } from './psm-timers.js';

type RegCommand = '+CREG' | '+CGREG' | '+CEREG';
const MODE_KEY = { '+CREG': 'cregMode', '+CGREG': 'cgregMode', '+CEREG': 'ceregMode' } as const;

/** The fields after <n> for `name` in mode `n` (27.007 §7.2, §10.1.20, §10.1.22). */
export function registrationFields(net: NetworkState, name: RegCommand, n: number): string {
  const stat = net.regStat;
  const out: string[] = [String(stat)];
  const r = net.radio;
  const located = stat === 1 || stat === 5 || stat === 3;
  const denied = stat === 3;
  const timers = net.psmTimers;
  const psm = name === '+CEREG' && n >= 4 && timers !== undefined && (stat === 1 || stat === 5);
  if (n >= 2 && located) {
    out.push(`"${r.tac}"`, `"${r.ci}"`, String(r.act));
    if (n !== 4 && n >= 3 && denied) out.push('0', String(net.rejectCause));
    else if (psm) out.push('', '');
    if (psm && timers) out.push(`"${encodeT3324(timers.activeTimeS)}"`, `"${encodeT3412(timers.periodicTauS)}"`);
  }
  return out.join(',');
}

export function registrationCommands(device: Device): CommandDef[] {
  const net = device.network;
  const modes = net.radio.registration;
  const names = (Object.keys(MODE_KEY) as RegCommand[]).filter((n) => modes[n] !== undefined);
  let lastStat = net.regStat;
  net.on('change', () => {
    const stat = net.regStat;
    if (stat === lastStat) return;
    lastStat = stat;
    for (const name of names) {
      const n = net[MODE_KEY[name]];
      if (n > 0) device.urc(`${name}: ${registrationFields(net, name, n)}`);
    }
  });
  return names.map((name): CommandDef => {
    const key = MODE_KEY[name];
    const max = modes[name]!;
    return {
      name,
      test: () => ok(`${name}: (0-${max})`),
      read: () => ok(`${name}: ${net[key]},${registrationFields(net, name, net[key])}`),
      set: (ctx) =>
        withArgs(ctx, [{ name: 'n', type: 'int', min: 0, max }], ([n]) => {
          net[key] = n;
          return ok();
        }),
    };
  });
}
