/**
 * AT+CIPSTA — query/set the IP address of the station (ESP-AT Wi-Fi AT Commands, "AT+CIPSTA"):
 *   AT+CIPSTA? → +CIPSTA:ip:<"ip">  +CIPSTA:gateway:<"gateway">  +CIPSTA:netmask:<"netmask">  OK
 *   AT+CIPSTA=<"ip">[,<"gateway">,<"netmask">] → OK
 * Not connected: 0.0.0.0 for all three (drivers poll this until the address is not 0.0.0.0).
 * A static address set here is what the query shows from then on (DHCP off), as on the module.
 */
import { ok, error, type CommandDef } from '../../../at/types.js';
import { espArgs, quote, type EspAtContext } from './context.js';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function cipstaCommand(q: EspAtContext): CommandDef {
  let fixed: { ip: string; gateway: string; netmask: string } | undefined;
  return {
    name: '+CIPSTA',
    read: () => {
      const s = q.wifi.settings;
      const on = q.wifi.online;
      const a = fixed ?? s;
      return ok(
        `+CIPSTA:ip:${quote(on ? a.ip : '0.0.0.0')}`,
        `+CIPSTA:gateway:${quote(on ? a.gateway : '0.0.0.0')}`,
        `+CIPSTA:netmask:${quote(on ? a.netmask : '0.0.0.0')}`,
      );
    },
    set: (ctx) =>
      espArgs(
        ctx,
        [
          { name: 'ip', type: 'string' },
          { name: 'gateway', type: 'string', optional: true },
          { name: 'netmask', type: 'string', optional: true },
        ],
        ([ip, gateway, netmask]) => {
          if (![ip, gateway, netmask].every((a) => a === undefined || IPV4.test(a))) return error(undefined, 'not an IPv4 address');
          const s = q.wifi.settings;
          fixed = { ip, gateway: gateway ?? s.gateway, netmask: netmask ?? s.netmask };
          return ok();
        },
      ),
  };
}
