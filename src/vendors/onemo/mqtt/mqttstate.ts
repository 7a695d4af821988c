/**
 * AT+MQTTSTATE — query the state (OneMO MQTT manual §3.7, "AT+MQTTSTATE 查询状态").
 *   AT+MQTTSTATE=<connect_id> → +MQTTSTATE: <state>, OK
 * <state>: 1 connecting or reconnecting, 2 connected, 3 disconnected (also a client never used).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { connectIdParam, mqttArgs } from './args.js';
import type { OneMoContext } from './context.js';

export function mqttstateCommand(q: OneMoContext): CommandDef {
  return {
    name: '+MQTTSTATE',
    set: (ctx) => mqttArgs(ctx, [connectIdParam(q)], ([id]) => ok(`+MQTTSTATE: ${q.client(id).stateCode}`)),
  };
}
