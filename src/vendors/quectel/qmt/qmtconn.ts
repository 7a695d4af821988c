/**
 * AT+QMTCONN — connect a client to MQTT server (EC200 manual §3.3.4).
 *   AT+QMTCONN=?  → +QMTCONN: (0-5),"clientid","username","password"
 *   AT+QMTCONN?   → +QMTCONN: <client_idx>,<state> for each client with an open network
 *   AT+QMTCONN=<client_idx>,"<clientid>"[,"<username>"[,"<password>"]]
 *                 → OK, then +QMTCONN: <client_idx>,<result>[,<ret_code>]
 * Without <username>, credentials configured with AT+QMTCFG="aliauth"/"onenet"/"hwauth" are used
 * (§3.3.1 note 5).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { clientIdxParam, clientRange, fail, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';

export function qmtconnCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTCONN',
    sensitive: true,
    test: () => ok(`+QMTCONN: ${clientRange(q)},"clientid","username","password"`),
    read: () => ok(...q.clients.filter((c) => c.connState !== undefined).map((c) => `+QMTCONN: ${c.idx},${c.connState}`)),
    set: (ctx) =>
      qmtArgs(
        ctx,
        [
          clientIdxParam(q),
          { name: 'clientid', type: 'string', minLength: 1, maxLength: 256 },
          { name: 'username', type: 'string', maxLength: 256, optional: true },
          { name: 'password', type: 'string', maxLength: 256, optional: true },
        ],
        ([idx, clientId, username, password]) => {
          const client = q.client(idx);
          // CONNECT needs an open network and no MQTT session yet on this index.
          if (client.state !== 'open') return fail(`client ${client.idx} is ${client.state}, not open`);
          client.connect(clientId, username, password);
          return ok();
        },
      ),
  };
}
