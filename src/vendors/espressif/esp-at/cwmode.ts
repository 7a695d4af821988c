/**
 * AT+CWMODE — query/set the Wi-Fi mode (ESP-AT Wi-Fi AT Commands, "AT+CWMODE"):
 *   AT+CWMODE?                       → +CWMODE:<mode>  OK
 *   AT+CWMODE=<mode>[,<auto_connect>] → OK
 * <mode> 0 null (RF off), 1 station, 2 SoftAP, 3 SoftAP+station; <auto_connect> (default 1): a
 * mode change that turns the station on joins the saved AP. Turning the station off leaves the AP
 * (`WIFI DISCONNECT`). The virtual module has no SoftAP side: modes 2 and 3 only switch the station.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { espArgs, type EspAtContext } from './context.js';

export function cwmodeCommand(q: EspAtContext): CommandDef {
  return {
    name: '+CWMODE',
    test: () => ok('+CWMODE:(0-3)'),
    read: () => ok(`+CWMODE:${q.state.mode}`),
    set: (ctx) =>
      espArgs(
        ctx,
        [
          { name: 'mode', type: 'int', values: [0, 1, 2, 3] },
          { name: 'auto_connect', type: 'int', values: [0, 1], optional: true },
        ],
        ([mode, auto]) => {
          const hadStation = stationOn(q.state.mode);
          q.state.mode = mode;
          if (hadStation && !stationOn(mode)) q.wifi.leave();
          if (!hadStation && stationOn(mode) && (auto ?? 1) === 1 && q.wifi.saved && q.wifi.autoConnect) void q.wifi.join(q.wifi.saved, false);
          return ok();
        },
      ),
  };
}

export const stationOn = (mode: number): boolean => mode === 1 || mode === 3;
