/**
 * AT+MQTTUNSUB — unsubscribe (OneMO MQTT manual §3.4, "AT+MQTTUNSUB 取消订阅").
 *   AT+MQTTUNSUB=<connect_id>,<topic>[,<topic1>…]
 *       → +MQTTUNSUB: <connect_id>,<mid>, OK, then +MQTTURC: "unsuback",<connect_id>,<mid>
 *         or +MQTTURC: "timeout",<connect_id>,<mid>
 * At most 3 topics ("支持同时取消订阅3个主题"), each 1–256 bytes (note 15). Needs a connection.
 */
import { decodeOne } from '../../../at/decode-args.js';
import { ok, type CommandDef } from '../../../at/types.js';
import { connectIdParam, mqttArgs, textFromAt, topicParam } from './args.js';
import { needConnected, requestRefused } from './connected.js';
import type { OneMoContext } from './context.js';
import { badParam } from './errors.js';

export function mqttunsubCommand(q: OneMoContext): CommandDef {
  return {
    name: '+MQTTUNSUB',
    set: (ctx) => {
      const [idArg, ...rest] = ctx.args;
      return mqttArgs({ ...ctx, args: idArg ? [idArg] : [] }, [connectIdParam(q)], ([id]) => {
        if (rest.length === 0) return badParam('missing <topic>');
        if (rest.length > q.data.maxTopicsPerRequest) return badParam(`more than ${q.data.maxTopicsPerRequest} topics`);
        const topics: string[] = [];
        for (const a of rest) {
          const t = decodeOne(topicParam(q), a);
          if (typeof t !== 'string') return badParam(typeof t === 'object' ? t.problem : 'bad topic');
          topics.push(textFromAt(t));
        }
        const client = q.client(id);
        const refused = needConnected(client);
        if (refused) return refused;
        const mid = client.unsubscribe(topics);
        if (mid === undefined) return requestRefused(client);
        return ok(`+MQTTUNSUB: ${client.id},${mid}`);
      });
    },
  };
}
