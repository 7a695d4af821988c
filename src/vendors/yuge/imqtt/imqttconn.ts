/**
 * AT+IMQTTCONN — 连接 MQTT 服务端 (manual §2.7 "AT+IMQTTCONN 连接 MQTT 服务端").
 *   AT+IMQTTCONN    → OK, then +IMQTTCONN:<state>
 *   AT+IMQTTCONN=?  → OK
 * <state> (§2.19.1): 0 connected, 1 already connected ("重复连接时上报"), -1 disconnected.
 * The module opens TCP (or TLS, AT+IMQTTMODE <tls>) to AT+IMQTTADDR's server and sends CONNECT
 * with AT+IMQTTPARA's clean session, keep-alive and version, AT+IMQTTLWT's will, and either
 * AT+IMQTTUSER / AT+IMQTTADDR's credentials (standard MQTT) or the Aliyun sign-in computed from
 * AT+IMQTTAUTH (mode 1) — see client.ts connectPlan.
 *
 * Where the manual is silent:
 * - Already connected: OK, then +IMQTTCONN:1, and the connection stays as it is.
 * - Nothing to connect to (mode 2 without AT+IMQTTADDR, or mode 1 without a triple or an
 *   address), or a connection or registration still in progress: ERROR.
 * - Any failure of the attempt (no data network, TCP/TLS, CONNACK refused, no CONNACK within
 *   <TIMEOUT>): OK, then +IMQTTCONN:-1.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { fail } from './args.js';
import { CONN_STATE } from './client.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export function imqttconnCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTCONN',
    test: () => ok(),
    exec: (ctx) => {
      const client = q.client;
      if (client.state === 'connected') {
        ctx.urc(line('+IMQTTCONN', CONN_STATE.alreadyConnected));
        return ok();
      }
      if (client.busy) return fail(`client is ${client.state}`);
      const plan = client.connectPlan();
      if (typeof plan === 'string') return fail(plan);
      client.connect(plan);
      return ok();
    },
  };
}
