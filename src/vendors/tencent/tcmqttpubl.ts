/**
 * AT+TCMQTTPUBL — 向某个 Topic 发布长消息 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.4).
 *   AT+TCMQTTPUBL=?  → +TCMQTTPUBL:"TOPIC_NAME(maxlen 128)","QOS(0/1)","LEN(1-10240)"
 *   AT+TCMQTTPUBL=<topic>,<qos>,<msg_length>
 *                    → OK, `>`, then <msg_length> bytes (or fewer ended by Ctrl+Z),
 *                      then +TCMQTTPUBL:OK | +TCMQTTPUBL:FAIL,<err_code>
 * <msg_length> 1–10240.
 *
 * Real modules: the ESP8266 firmware unescapes the data as it does AT+TCMQTTPUB's message
 * (profile `payloadEscapes`: `\"` and `\,`, and `\\`). Tencent's published test reports
 * (firmware v1.2.0 and v2.1.0, QCloud_IoT_AT_Test_Tool/Test-report-sample-WiFi.md) send
 * `AT+TCMQTTPUBL=…,1,367` with a JSON text whose 10 quotes and 2 commas are escaped: 367 bytes
 * typed, 355 published (the platform's echo on `…/data` then arrives re-serialised, 345 bytes).
 * <msg_length> counts the bytes as typed, escapes included.
 *
 * Where the manual is silent (its set-form text and its example disagree on where OK goes; the
 * text, §1.2.3 and AT+TCCERTADD agree on "OK, then >", so that is followed):
 * - The prompt is `>` on a line of its own. Drivers send a CRLF after the message that is not
 *   part of <msg_length> (FACTS "The prompt"); it is dropped.
 * - <msg_length> over 10240 is 201 (msg packet over size); 0 is 204; a topic over 128 bytes
 *   (the manual's parameter text says 1024, its test form 128) is 204.
 * - Not connected → 208 before the prompt. If no byte arrives for `dataIdleTimeout` (profile
 *   timing) before the message is complete, nothing is sent: FAIL,202.
 */
import { ok, type CommandDef, type Outcome } from '../../at/types.js';
import { okThen, publishTopicProblem, QOS_PARAM, refuseBusy, tcArgs, topicParam } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, cmeError, CME, stateError } from './errors.js';
import { textFromAt, unescapePayload } from './format.js';
import { dataUpToCtrlZ, fixedOrCtrlZ } from './tccertadd.js';

export function tcmqttpublCommand(q: TencentContext): CommandDef {
  const L = q.data.limits;
  return {
    name: '+TCMQTTPUBL',
    test: () => ok(q.fmt.line('TCMQTTPUBL', `"TOPIC_NAME(maxlen ${L.topic})","QOS(0/1)","LEN(1-${L.longPayload})"`)),
    set: (ctx) =>
      tcArgs(ctx, [topicParam(q), QOS_PARAM, { name: 'msg_length', type: 'int', min: 1 }], ([topicV, qosV, lenV]): Outcome => {
        const topic = textFromAt(topicV);
        const bad = publishTopicProblem(topic);
        if (bad) return badParam(bad);
        const length = lenV;
        if (length > L.longPayload) return cmeError(CME.overSize, `<msg_length> ${length} exceeds ${L.longPayload}`);
        const refused = refuseBusy(q);
        if (refused) return refused;
        if (!q.client.connected) return stateError('MQTT is not connected');
        return {
          type: 'prompt',
          lines: ['OK'],
          spec: fixedOrCtrlZ(length, q.device.timing.limit('dataIdleTimeout', 10_000)),
          onData: (end): Outcome => {
            const payload = dataUpToCtrlZ(end);
            if (!payload) {
              q.log.info({ expected: length, got: end.payload.length }, 'AT+TCMQTTPUBL input timed out');
              q.report(q.fmt.fail('TCMQTTPUBL', CME.timeout), 'result');
              return { type: 'silent', lines: [] };
            }
            const message = unescapePayload(payload, q.escapes);
            okThen(q, 'TCMQTTPUBL', () => q.client.publish(topic, message, qosV));
            return { type: 'silent', lines: [] };
          },
        };
      }),
  };
}
