/**
 * AT+QMTCONN 连接客户端到 MQTT 服务器 — connect a client to MQTT server (BC260Y-CN manual §3.3.4).
 *   AT+QMTCONN=?  → +QMTCONN: (0-4),<clientID>,<username>,<password>
 *   AT+QMTCONN?   → +QMTCONN: <TCP_connectID>,<state> per client with an open network
 *                   (<state> 1 initializing, 2 connecting, 3 connected, 4 disconnecting)
 *   AT+QMTCONN=<TCP_connectID>,"<clientID>"[,"<username>"[,"<password>"]]
 *                 → OK, then +QMTCONN: <TCP_connectID>,<result>[,<retcode>]
 * <result>: 0 sent and acknowledged (then <retcode> is the CONNACK return code 0–5), 2 failed.
 * The wait for CONNACK is "<pkttimeout> × (<retry_times> + 1)". <result> 1 (retransmission) is
 * never reported for CONNECT: a CONNECT is not resent on the same connection [MQTT-3.1.0-2].
 * Without <username>, the AT+QMTCFG="aliauth" device is signed in (§3.3.1 note 5).
 * The manual gives no length limit for the three strings; the profile's is used. <clientID> and
 * <username> are MQTT UTF-8 strings (8506 otherwise); <password> is binary data [MQTT-3.1.3.5] and
 * goes out byte for byte. Connecting needs an open network and no session yet (8503).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange, failWith, isFault } from './errors.js';
import { hostText } from './text.js';

export function qmtconnCommand(q: Bc260yContext): CommandDef {
  const max = q.data.maxCredentialLength;
  return {
    name: '+QMTCONN',
    sensitive: true,
    test: () => ok(`+QMTCONN: ${connectIdRange(q)},<clientID>,<username>,<password>`),
    read: () => ok(...q.clients.filter((c) => c.connState !== undefined).map((c) => `+QMTCONN: ${c.idx},${c.connState}`)),
    set: (ctx) =>
      bcArgs(
        q,
        ctx,
        [
          connectIdParam(q),
          { name: 'clientID', type: 'string', minLength: 1, maxLength: max },
          { name: 'username', type: 'string', maxLength: max, optional: true },
          { name: 'password', type: 'string', maxLength: max, optional: true },
        ],
        ([idx, clientIdRaw, usernameRaw, passwordRaw]) => {
          const clientId = hostText(clientIdRaw, 'clientID');
          if (isFault(clientId)) return failWith(q, clientId.cause, clientId.reason);
          const username = usernameRaw === undefined ? undefined : hostText(usernameRaw, 'username');
          if (isFault(username)) return failWith(q, username.cause, username.reason);
          const password = passwordRaw === undefined ? undefined : Buffer.from(passwordRaw, 'latin1');
          const client = q.client(idx);
          if (client.state !== 'open') return failWith(q, 'linkError', `client ${client.idx} is ${client.state}, not open`);
          client.connect(clientId, username, password);
          return ok();
        },
      ),
  };
}
