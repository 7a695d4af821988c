/**
 * AT+CPSMS — power saving mode setting (3GPP TS 27.007 §7.38):
 *
 *   AT+CPSMS=[<mode>[,<Requested_Periodic-RAU>[,<Requested_GPRS-READY-timer>[,<Requested_Periodic-TAU>[,<Requested_Active-Time>]]]]]
 *   AT+CPSMS?  → +CPSMS: <mode>,[<RAU>],[<READY>],[<Requested_Periodic-TAU>],[<Requested_Active-Time>]
 *   AT+CPSMS=? → +CPSMS: (0-2),,,("00000000"-"11111111"),("00000000"-"11111111")
 *
 * <mode> 1 asks for PSM, 0 stops asking, 2 stops and forgets the requested values (the special
 * form of §7.38). Timers are one byte as 8 binary digits: T3412 extended (GPRS Timer 3,
 * TS 24.008 §10.5.7.4a) and T3324 (GPRS Timer 2, §10.5.7.4); the GERAN/UTRAN ones (RAU, READY)
 * are accepted and kept for the read form only. The emulated network grants what is asked (the
 * granted timers are what AT+CEREG=4 prints); without a request, settings.radio.psm. Asking
 * (or no longer asking) for PSM is negotiated with a TAU: the radio connects briefly, so PSM
 * starts after the RRC release plus T3324 (src/modem/power-saving.ts).
 */
import { error, ok, type CommandDef } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import { CME_INCORRECT_PARAMETERS, withArgs } from './decode.js';
import { decodeT3324, decodeT3412 } from './psm-timers.js';

const BYTE = { type: 'string', optional: true, minLength: 8, maxLength: 8 } as const;

export function cpsmsCommand(device: Device): { command: CommandDef; reset: () => void } {
  const net = device.network;
  // The bytes as requested (for the read form); undefined = not given.
  let requested: (string | undefined)[] = [undefined, undefined, undefined, undefined];
  const quoted = (v: string | undefined) => (v === undefined ? '' : `"${v}"`);
  const command: CommandDef = {
    name: '+CPSMS',
    test: () => ok('+CPSMS: (0-2),,,("00000000"-"11111111"),("00000000"-"11111111")'),
    read: () => ok(`+CPSMS: ${net.psmRequested ? 1 : 0},${requested.map(quoted).join(',')}`),
    set: (ctx) =>
      withArgs(ctx, [{ name: 'mode', type: 'int', min: 0, max: 2, optional: true }, { ...BYTE, name: 'Requested_Periodic-RAU' }, { ...BYTE, name: 'Requested_GPRS-READY-timer' }, { ...BYTE, name: 'Requested_Periodic-TAU' }, { ...BYTE, name: 'Requested_Active-Time' }], ([mode, rau, ready, tau, active]) => {
        const tauS = tau === undefined ? undefined : decodeT3412(tau);
        const activeS = active === undefined ? undefined : decodeT3324(active);
        if ((tau !== undefined && tauS === undefined) || (active !== undefined && activeS === undefined)) {
          return error(CME_INCORRECT_PARAMETERS, 'timer must be 8 binary digits with a valid unit');
        }
        if (mode === undefined || mode === 2) {
          // AT+CPSMS= and AT+CPSMS=2: PSM off, requested values removed.
          requested = [undefined, undefined, undefined, undefined];
          net.psmRequested = false;
          net.psmRequestedActiveS = undefined;
          net.psmRequestedTauS = undefined;
        } else {
          if (rau !== undefined) requested[0] = rau;
          if (ready !== undefined) requested[1] = ready;
          if (tau !== undefined) {
            requested[2] = tau;
            net.psmRequestedTauS = tauS;
          }
          if (active !== undefined) {
            requested[3] = active;
            net.psmRequestedActiveS = activeS;
          }
          net.psmRequested = mode === 1;
        }
        device.powerSaving.activity();
        return ok();
      }),
  };
  return {
    command,
    // A power cycle forgets the request with the rest of RAM (NetworkState.powerOff); ATZ does not.
    reset: () => {
      if (!net.psmRequested && net.psmRequestedActiveS === undefined && net.psmRequestedTauS === undefined) requested = [undefined, undefined, undefined, undefined];
    },
  };
}
