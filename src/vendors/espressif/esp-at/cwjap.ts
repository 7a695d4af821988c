/**
 * AT+CWJAP — connect to an AP (ESP-AT Wi-Fi AT Commands, "AT+CWJAP"):
 *   AT+CWJAP?  → +CWJAP:<ssid>,<bssid>,<channel>,<rssi>,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>  OK
 *                (not connected: `No AP`, then OK)
 *   AT+CWJAP=[<ssid>],[<pwd>][,<bssid>][,<pci_en>][,<reconn_interval>][,<listen_interval>][,<scan_mode>][,<jap_timeout>][,<pmf>]
 *              → WIFI CONNECTED  WIFI GOT IP  OK
 *              or +CWJAP:<error code>  ERROR
 *   AT+CWJAP   → the same with the saved configuration (v2.2)
 * <error code>: 1 connection timeout, 2 wrong password, 3 cannot find the target AP, 4 connection
 * failed. "This command requires Station mode to be active." The configuration is saved in flash
 * (AT+SYSSTORE=1, the default).
 *
 * Where the guide leaves room:
 * - The command holds its final result until the join ends (tens of ms to seconds of module
 *   time: settings.wifi connectMs/dhcpMs/failMs); the `WIFI …` messages of the join are printed
 *   inside its response, before OK, as the module prints them. Joining while joined leaves first
 *   (`WIFI DISCONNECT`).
 * - The final code after +CWJAP:<n> is `ERROR` on ESP-AT v2.x (esp_at.h renders
 *   ESP_AT_RESULT_CODE_FAIL as "ERROR"); settings["esp-at"].cwjapFailFinal makes it `FAIL` for
 *   firmware that prints the v1.x form.
 * - The trailing fields of the query are ESP-AT's defaults (pci_en 0, reconnect every 1 s,
 *   listen interval 3, fast scan 0); <rssi> is the signal now (control API: wifi signal).
 */
import { final, ok, error, type CommandDef, type Outcome } from '../../../at/types.js';
import { stationOn } from './cwmode.js';
import { espArgs, quote, unescapeEsp, type EspAtContext } from './context.js';

export function cwjapCommand(q: EspAtContext): CommandDef {
  const w = q.wifi;
  const join = async (cfg: { ssid: string; password: string }): Promise<Outcome> => {
    if (!stationOn(q.state.mode)) return error(undefined, 'station mode is off (AT+CWMODE)');
    const lines: string[] = [];
    const onConnected = () => lines.push('WIFI CONNECTED');
    const onGotIp = () => lines.push('WIFI GOT IP');
    const onDisconnected = () => lines.push('WIFI DISCONNECT');
    w.on('connected', onConnected).on('got-ip', onGotIp).on('disconnected', onDisconnected);
    q.state.joining = true;
    try {
      const r = await w.join(cfg, q.state.sysstore === 1);
      if (r.ok) return ok(...lines);
      return final(q.data.cwjapFailFinal, ...lines, `+CWJAP:${r.code}`);
    } finally {
      q.state.joining = false;
      w.off('connected', onConnected).off('got-ip', onGotIp).off('disconnected', onDisconnected);
    }
  };
  return {
    name: '+CWJAP',
    sensitive: true,
    read: () => {
      if (!w.online && w.state !== 'connected') return ok('No AP');
      const s = w.settings;
      return ok(`+CWJAP:${quote(w.current?.ssid ?? s.ssid)},${quote(s.bssid)},${s.channel},${w.rssi},0,1,3,0`);
    },
    set: (ctx) =>
      espArgs(
        ctx,
        [
          { name: 'ssid', type: 'string', maxLength: 64, optional: true },
          { name: 'pwd', type: 'string', maxLength: 128, optional: true },
          { name: 'bssid', type: 'string', optional: true },
          { name: 'pci_en', type: 'int', values: [0, 1], optional: true },
          { name: 'reconn_interval', type: 'int', min: 0, max: 7200, optional: true },
          { name: 'listen_interval', type: 'int', min: 1, max: 100, optional: true },
          { name: 'scan_mode', type: 'int', values: [0, 1], optional: true },
          { name: 'jap_timeout', type: 'int', min: 3, max: 600, optional: true },
          { name: 'pmf', type: 'int', min: 0, max: 3, optional: true },
        ],
        ([ssid, pwd]) => {
          // An omitted <ssid> or <pwd> keeps the saved one (v2.2: "AT+CWJAP=,\"pwd\"").
          const saved = w.saved ?? w.current;
          const cfg = { ssid: ssid !== undefined ? unescapeEsp(ssid) : (saved?.ssid ?? ''), password: pwd !== undefined ? unescapeEsp(pwd) : (saved?.password ?? '') };
          if (cfg.ssid === '') return error(undefined, 'no SSID');
          return join(cfg);
        },
      ),
    exec: () => (w.saved ? join(w.saved) : error(undefined, 'no saved AP')),
  };
}
