/**
 * What AT+IMQTTLWT (§2.5) and AT+IMQTTLWTBIN (§2.6) share: one will message, set before
 * AT+IMQTTCONN ("该指令在 AT+IMQTTCONN 执行之前设置") and sent in every CONNECT from then on; the
 * broker publishes it when the connection ends abnormally ("当 MQTT Client 连接异常后，由服务器主动发布此消息").
 *
 * Where the manual is silent:
 * - The later of the two commands replaces the will; each read form prints the current will, its
 *   message as text (AT+IMQTTLWT?) or as HEXString (AT+IMQTTLWTBIN?, as typed when it was set
 *   that way, upper case otherwise).
 * - An empty <topic> removes the will; with no will the read forms print `:,0,,0`.
 * - The message is at most the profile's maxMessageLength bytes (AT+IMQTTPUBEX's 1024).
 * - A will set while connected applies from the next AT+IMQTTCONN.
 */
import type { DecodedOf } from '../../../at/decode-args.js';
import { oneOf } from '../../common/decode.js';
import { ok, type Line, type Outcome } from '../../../at/types.js';
import { fail, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';

export function willParams(q: YugeContext, messageMax: number) {
  return [
    str('topic', q.data.maxTopicLength),
    { name: 'qos', type: 'int', min: 0, max: 2 },
    str('message', messageMax),
    { name: 'retained', type: 'int', values: [0, 1], optional: true },
  ] as const;
}

/** Store the will from decoded (topic, qos, message, retained); `hex` = message is a HEXString. */
export function setWill(
  q: YugeContext,
  [topic, qos, text, retained]: DecodedOf<ReturnType<typeof willParams>>,
  hex: boolean,
): Outcome {
  let payload: Buffer;
  if (hex) {
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) return fail('message is not an even-length HEXString');
    payload = Buffer.from(text, 'hex');
  } else payload = Buffer.from(text, 'latin1');
  if (payload.length > q.data.maxMessageLength) return fail(`will message longer than ${q.data.maxMessageLength} bytes`);
  const t = textFromAt(topic);
  if (t === '') {
    q.client.config.will = undefined;
    return ok();
  }
  q.client.config.will = {
    topic: t,
    qos: oneOf(qos, [0, 1, 2]),
    payload,
    retain: retained === 1,
    ...(hex ? { hexTyped: text } : {}),
  };
  return ok();
}

/** The read-form line of either command. */
export function willLine(q: YugeContext, name: string, hex: boolean): Line {
  const w = q.client.config.will;
  if (!w) return `${name}:,0,,0`;
  const message = hex ? Buffer.from(w.hexTyped ?? w.payload.toString('hex').toUpperCase(), 'latin1') : w.payload;
  return Buffer.concat([Buffer.from(`${name}:${textToAt(w.topic)},${w.qos},`, 'latin1'), message, Buffer.from(`,${w.retain ? 1 : 0}`, 'latin1')]);
}
