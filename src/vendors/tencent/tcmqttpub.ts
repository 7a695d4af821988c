/**
 * AT+TCMQTTPUB — 向某个 Topic 发布消息 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.3).
 *   AT+TCMQTTPUB=?  → +TCMQTTPUB:"TOPIC_NAME(maxlen 128)","QOS(0/1)","PAYLOAD(maxlen 1024)"
 *   AT+TCMQTTPUB=<topic>,<qos>,<message>
 *                   → OK, then +TCMQTTPUB:OK | +TCMQTTPUB:FAIL,<err_code>
 * <topic> ≤ 128 bytes, <qos> 0 or 1, <message> ≤ 1024 bytes. Not connected → error. QoS 1 waits
 * for PUBACK or fails on timeout (the §3.3 example: "FAIL,202 消息发布超时失败,比如该主题没有发布
 * 权限" — the platform drops a publish it does not permit, so no PUBACK comes).
 *
 * Where the manual is silent:
 * - <message> is quoted; drivers escape `"` as `\"` and `,` as `\,` (and `\` as `\\`) in it and
 *   the module publishes the unescaped text (FACTS "Payload quoting"; profile at.backslashInQuotes;
 *   which characters: profile `payloadEscapes`, `"` and `,` on the ESP8266).
 *   The 1024 limit applies to the unescaped bytes; longer is 201 (msg packet over size).
 *   §7.4 prints the JSON payload without escapes: a parser cannot tell those quotes from the
 *   closing one, so such a line is a syntax error (ERROR), as on the firmware.
 * - A topic with `+` or `#` is 204; not connected (or reconnecting) is 208.
 */
import { ok, type CommandDef } from '../../at/types.js';
import { okThen, publishTopicProblem, QOS_PARAM, refuseBusy, tcArgs, topicParam } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, cmeError, CME, stateError } from './errors.js';
import { textFromAt, unescapePayload } from './format.js';

export function tcmqttpubCommand(q: TencentContext): CommandDef {
  const L = q.data.limits;
  return {
    name: '+TCMQTTPUB',
    test: () => ok(q.fmt.line('TCMQTTPUB', `"TOPIC_NAME(maxlen ${L.topic})","QOS(0/1)","PAYLOAD(maxlen ${L.payload})"`)),
    set: (ctx) =>
      tcArgs(ctx, [topicParam(q), QOS_PARAM, { name: 'message', type: 'string' }], ([topicV, qosV, messageV]) => {
        const topic = textFromAt(topicV);
        const bad = publishTopicProblem(topic);
        if (bad) return badParam(bad);
        const payload = unescapePayload(messageV, q.escapes);
        if (payload.length > L.payload) return cmeError(CME.overSize, `message of ${payload.length} bytes exceeds ${L.payload}`);
        const refused = refuseBusy(q);
        if (refused) return refused;
        if (!q.client.connected) return stateError('MQTT is not connected');
        return okThen(q, 'TCMQTTPUB', () => q.client.publish(topic, payload, qosV));
      }),
  };
}
