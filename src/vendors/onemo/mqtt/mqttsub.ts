/**
 * AT+MQTTSUB — subscribe (OneMO MQTT manual §3.3, "AT+MQTTSUB 订阅主题").
 *   AT+MQTTSUB=<connect_id>,<topic>,<qos>[,<topic1>,<qos1>…]
 *       → +MQTTSUB: <connect_id>,<mid>, OK, then +MQTTURC: "suback",<connect_id>,<mid>,<code>[,<code1>…]
 *         (one code per topic in order, 128 when refused) or +MQTTURC: "timeout",<connect_id>,<mid>
 *   AT+MQTTSUB=<connect_id>  → [+MQTTSUB: <topic>,<code>[,<topic1>,<code1>…]], OK
 * At most 3 topics ("支持同时添加3个主题订阅"), each 1–256 bytes (note 12), QoS 0–2.
 *
 * Where the manual is silent: the list form prints the topics acknowledged on this client with
 * their granted QoS, on one line as §3.3's example does, nothing when there are none; both forms
 * need a connection (602/603).
 */
import { decodeOne } from '../../../at/decode-args.js';
import { ok, type CommandDef, type RawArg } from '../../../at/types.js';
import { connectIdParam, mqttArgs, textFromAt, textToAt, topicParam } from './args.js';
import { oneOf } from '../../common/decode.js';
import { needConnected, requestRefused } from './connected.js';
import type { OneMoContext } from './context.js';
import { badParam } from './errors.js';

function decodePairs(q: OneMoContext, args: readonly RawArg[]): { topic: string; qos: 0 | 1 | 2 }[] | string {
  if (args.length === 0 || args.length % 2 !== 0) return 'topics and QoS must come in pairs';
  if (args.length / 2 > q.data.maxTopicsPerRequest) return `more than ${q.data.maxTopicsPerRequest} topics`;
  const out: { topic: string; qos: 0 | 1 | 2 }[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const topic = decodeOne(topicParam(q), args[i]!);
    if (typeof topic !== 'string') return typeof topic === 'object' ? topic.problem : 'bad topic';
    const qos = decodeOne({ name: 'qos', type: 'int', min: 0, max: 2 }, args[i + 1]!);
    if (typeof qos !== 'number') return typeof qos === 'object' ? qos.problem : 'bad qos';
    out.push({ topic: textFromAt(topic), qos: oneOf(qos, [0, 1, 2]) });
  }
  return out;
}

export function mqttsubCommand(q: OneMoContext): CommandDef {
  return {
    name: '+MQTTSUB',
    set: (ctx) => {
      const [idArg, ...rest] = ctx.args;
      return mqttArgs({ ...ctx, args: idArg ? [idArg] : [] }, [connectIdParam(q)], ([id]) => {
        const client = q.client(id);
        if (rest.length === 0) {
          const refused = needConnected(client);
          if (refused) return refused;
          const items = [...client.subscriptions].map(([t, code]) => `"${textToAt(t)}",${code}`);
          return ok(...(items.length > 0 ? [`+MQTTSUB: ${items.join(',')}`] : []));
        }
        const topics = decodePairs(q, rest);
        if (typeof topics === 'string') return badParam(topics);
        const refused = needConnected(client);
        if (refused) return refused;
        const mid = client.subscribe(topics);
        if (mid === undefined) return requestRefused(client);
        return ok(`+MQTTSUB: ${client.id},${mid}`);
      });
    },
  };
}
