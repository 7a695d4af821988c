/**
 * AT+MQTTDISC — disconnect (OneMO MQTT manual §3.8, "AT+MQTTDISC 主动断开连接").
 *   AT+MQTTDISC=<connect_id> → OK, then +MQTTURC: "conn",<connect_id>,2
 * "连接未建立时使用该命令，返回 +CME ERROR": 602 when the client is disconnected. A client that is
 * still connecting or reconnecting is stopped (OK, then "conn",<id>,2): the manual is silent, and
 * it is the only way for a driver to end a reconnection loop.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { connectIdParam, mqttArgs } from './args.js';
import type { OneMoContext } from './context.js';
import { fail, MQTT_ERR } from './errors.js';

export function mqttdiscCommand(q: OneMoContext): CommandDef {
  return {
    name: '+MQTTDISC',
    set: (ctx) =>
      mqttArgs(ctx, [connectIdParam(q)], ([id]) => {
        const client = q.client(id);
        if (client.state === 'idle') return fail(MQTT_ERR.notConnected, `client ${client.id} is not connected`);
        if (client.state === 'disconnecting') return fail(MQTT_ERR.state, `client ${client.id} is already disconnecting`);
        client.disconnect();
        return ok();
      }),
  };
}
