/**
 * AT+TCMQTTUNSUB — 取消已经订阅的 Topic (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.6).
 *   AT+TCMQTTUNSUB=?  → +TCMQTTUNSUB:"TOPIC_NAME"
 *   AT+TCMQTTUNSUB?   → +TCMQTTUNSUB:<topic> (the last topic unsubscribed), OK — or OK alone
 *   AT+TCMQTTUNSUB=<topic>
 *                     → OK, then +TCMQTTUNSUB:OK | +TCMQTTUNSUB:FAIL,<err_code>
 *
 * Where the manual is silent: not connected (or reconnecting) is 208; a topic that was never
 * subscribed is still sent (the broker acknowledges it) and answers OK; no UNSUBACK within
 * <cmdtimeout> is FAIL,202.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { filterProblem, okThen, refuseBusy, tcArgs, topicParam } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, stateError } from './errors.js';
import { quote, textFromAt, textToAt } from './format.js';

export function tcmqttunsubCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMQTTUNSUB',
    test: () => ok(q.fmt.line('TCMQTTUNSUB', '"TOPIC_NAME"')),
    read: () => {
      const last = q.client.lastUnsubscribed;
      return last === undefined ? ok() : ok(q.fmt.line('TCMQTTUNSUB', quote(textToAt(last))));
    },
    set: (ctx) =>
      tcArgs(ctx, [topicParam(q)], ([topicV]) => {
        const topic = textFromAt(topicV);
        const bad = filterProblem(topic);
        if (bad) return badParam(bad);
        const refused = refuseBusy(q);
        if (refused) return refused;
        if (!q.client.connected) return stateError('MQTT is not connected');
        return okThen(q, 'TCMQTTUNSUB', () => q.client.unsubscribe(topic));
      }),
  };
}
