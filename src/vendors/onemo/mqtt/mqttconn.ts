/**
 * AT+MQTTCONN — connect (OneMO MQTT manual §3.2, "AT+MQTTCONN 连接"): TCP (or TLS, per
 * AT+MQTTCFG="ssl") and MQTT CONNECT in one step.
 *   AT+MQTTCONN=?  → +MQTTCONN: (0-5),"host",(0-65535),"clientid","user","passwd"
 *   AT+MQTTCONN=<connect_id>,<host>[,<port>[,<clientID>,<user>,<passwd>]]
 *                  → OK, then +MQTTURC: "conn",<connect_id>,<conn_state>
 * <port> defaults to 1883; <host> ≤ 128, <clientID> ≤ 128, <user> ≤ 128, <passwd> ≤ 256 bytes.
 * "同一个<connect_id>重复连接将返回错误": connected → 604, connecting/reconnecting → 603. Sent
 * while the DISCONNECT of AT+MQTTDISC is still on its way (a driver pipelining DISC and CONN):
 * 607 (状态错误), as AT+MQTTDISC answers in that state; the next AT+MQTTCONN after "conn",<id>,2 works.
 * The connection goes to the configured broker whatever host is named (the name is kept).
 *
 * Where the manual is silent:
 * - The test form's reply is the syntax line of the manual with ranges filled in.
 * - <clientID>, <user> and <passwd> are each accepted on their own (drivers send
 *   `…,"cid"` and `…,"cid","user"` too); an empty <user>/<passwd> sends none. No <clientID> sends
 *   an empty one; with a persistent session (clean 0, the default) that is refused
 *   ([MQTT-3.1.3-8], CONNACK 2): "conn",<id>,3.
 * - Without a data network (AT+CFUN=0, not registered) the command answers 605 (网络错误) at once.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { connectIdParam, connectIdRange, mqttArgs, textFromAt } from './args.js';
import type { OneMoContext } from './context.js';
import { fail, MQTT_ERR } from './errors.js';

export function mqttconnCommand(q: OneMoContext): CommandDef {
  const d = q.data;
  return {
    name: '+MQTTCONN',
    sensitive: true,
    test: () => ok(`+MQTTCONN: ${connectIdRange(q)},"host",(0-65535),"clientid","user","passwd"`),
    set: (ctx) =>
      mqttArgs(
        ctx,
        [
          connectIdParam(q),
          { name: 'host', type: 'string', minLength: 1, maxLength: d.maxHostLength },
          { name: 'port', type: 'int', min: 0, max: 65535, optional: true },
          { name: 'clientID', type: 'string', maxLength: d.maxClientIdLength, optional: true },
          { name: 'user', type: 'string', maxLength: d.maxUserLength, optional: true },
          { name: 'passwd', type: 'string', maxLength: d.maxPasswordLength, optional: true },
        ],
        ([id, host, port, clientId, user, passwd]) => {
          const client = q.client(id);
          if (client.state === 'connected') return fail(MQTT_ERR.alreadyConnected, `client ${client.id} is already connected`);
          if (client.state === 'disconnecting') return fail(MQTT_ERR.state, `client ${client.id} is still disconnecting`);
          if (client.active) return fail(MQTT_ERR.connecting, `client ${client.id} is ${client.state}`);
          if (!q.device.network.dataReady) return fail(MQTT_ERR.network, 'no data network');
          client.connect({
            host,
            port: port ?? d.defaultPort,
            clientId: textFromAt(clientId ?? ''),
            username: user ? textFromAt(user) : undefined,
            // Passwords are bytes (MQTT 3.1.1 §3.1.3.5): passed as typed.
            password: passwd ? Buffer.from(passwd, 'latin1') : undefined,
          });
          return ok();
        },
      ),
  };
}
