/**
 * AT+IMQTTSUB — 订阅主题 (manual §2.9 "AT+IMQTTSUB 订阅主题").
 *   AT+IMQTTSUB=<topic>,<qos>  → OK, then +IMQTTSUB:<packetid>,<qos>
 *   AT+IMQTTSUB?               → +IMQTTSUB:<topic>,<qos> (one line per subscription)  OK
 *   AT+IMQTTSUB=?              → OK
 * <qos> 0–1 ("QOS 值，范围 0-1"). The result comes after OK (§3: `OK`, then `+IMQTTSUB:2,1`).
 *
 * Where the manual is silent (client.ts): <qos> in the result is what the broker granted, -1 when
 * it refused the filter or no SUBACK came within <TIMEOUT>; ERROR when not connected or the
 * filter is not a valid MQTT filter. The read form lists the acknowledged subscriptions of the
 * session (none: just OK); the example leaves out the final OK, which is printed.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { fail, imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';
import { validFilter } from './topics.js';

export function imqttsubCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTSUB',
    test: () => ok(),
    read: () => ok(...[...q.client.subscriptions].map(([topic, qos]) => line('+IMQTTSUB', `${textToAt(topic)},${qos}`))),
    set: (ctx) =>
      imqttArgs(ctx, [str('topic', q.data.maxTopicLength, { minLength: 1 }), { name: 'qos', type: 'int', values: [0, 1] }], ([topicRaw, qos]) => {
        const topic = textFromAt(topicRaw);
        if (!validFilter(topic)) return fail(`"${topic}" is not a valid topic filter`);
        if (q.client.state !== 'connected') return fail(`client is ${q.client.state}, not connected`);
        return q.client.subscribe(topic, qos) ? ok() : fail('the session refused the request');
      }),
  };
}
