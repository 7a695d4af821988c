/**
 * AT+IMQTTDISCONN — 客户端断开与 MQTT 服务器的连接 (manual §2.8
 * "AT+IMQTTDISCONN 客户端断开与 MQTT 服务器的连接").
 *   AT+IMQTTDISCONN  → OK, then +IMQTTCONN:-1 (or ERROR)
 * The module sends DISCONNECT (so the broker discards the will) and closes the connection.
 *
 * Where the manual is silent: ERROR when there is no connection to end (idle, or already
 * disconnecting); a connection attempt still in progress is abandoned (OK, +IMQTTCONN:-1). The
 * syntax lists no test form, so `AT+IMQTTDISCONN=?` is ERROR like any undocumented form.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { fail } from './args.js';
import type { YugeContext } from './context.js';

export function imqttdisconnCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTDISCONN',
    exec: () => {
      const client = q.client;
      if (client.state !== 'connected' && client.state !== 'connecting') return fail(`client is ${client.state}, not connected`);
      client.disconnect();
      return ok();
    },
  };
}
