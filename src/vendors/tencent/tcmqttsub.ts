/**
 * AT+TCMQTTSUB — 订阅 MQTT 某个 Topic (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.5).
 *   AT+TCMQTTSUB=?  → +TCMQTTSUB:"TOPIC_NAME(maxlen 128)","QOS(0/1)"
 *   AT+TCMQTTSUB?   → +TCMQTTSUB:<topic>,<qos> per subscribed topic, then OK (or OK alone)
 *   AT+TCMQTTSUB=<topic>,<qos>
 *                   → OK, then +TCMQTTSUB:OK | +TCMQTTSUB:FAIL,<err_code> (after SUBACK or timeout)
 * Not connected → error. A topic the platform refuses: FAIL,-108 (the §3.5 example, "该主题没有
 * 订阅权限": SUBACK 0x80); no SUBACK within <cmdtimeout>: FAIL,202.
 *
 * Where the manual is silent: a filter with a misplaced `+` or `#` is 204; more topics than the module keeps (profile `limits.subscriptions`)
 * is FAIL,-107 (QCLOUD_ERR_MQTT_MAX_SUBSCRIPTIONS); the list prints topics quoted; not connected
 * (or reconnecting) is 208.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { filterProblem, okThen, QOS_PARAM, refuseBusy, tcArgs, topicParam } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, stateError } from './errors.js';
import { quote, textFromAt, textToAt } from './format.js';

export function tcmqttsubCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMQTTSUB',
    test: () => ok(q.fmt.line('TCMQTTSUB', `"TOPIC_NAME(maxlen ${q.data.limits.topic})","QOS(0/1)"`)),
    read: () => ok(...[...q.client.subscriptions].map(([t, qos]) => q.fmt.line('TCMQTTSUB', `${quote(textToAt(t))},${qos}`))),
    set: (ctx) =>
      tcArgs(ctx, [topicParam(q), QOS_PARAM], ([topicV, qosV]) => {
        const topic = textFromAt(topicV);
        const bad = filterProblem(topic);
        if (bad) return badParam(bad);
        const refused = refuseBusy(q);
        if (refused) return refused;
        if (!q.client.connected) return stateError('MQTT is not connected');
        return okThen(q, 'TCMQTTSUB', () => q.client.subscribe(topic, qosV));
      }),
  };
}
