/**
 * AT+MQTTPUB — publish (OneMO MQTT manual §3.5, "AT+MQTTPUB 发布消息").
 *   AT+MQTTPUB=<connect_id>,<topic>,<qos>,<retain>,<dup>,<msg_len>[,<message>]
 *       → +MQTTPUB: <connect_id>,<mid>,<length>, OK, then per QoS:
 *         0: nothing; 1: +MQTTURC: "puback",<id>,<mid>,<dup>;
 *         2: +MQTTURC: "pubrec",<id>,<mid>,<dup> and +MQTTURC: "pubcomp",<id>,<mid>,<dup>;
 *         after the last retransmission: +MQTTURC: "timeout",<id>,<mid>
 *   Without <message>: data mode ("当此参数省略时进入数据模式"): `> `, then the message.
 * <length> is the PUBLISH packet as sent ("已发送MQTT报文长度"; §3.5 example: 13 at QoS 0, 15 at
 * QoS 1/2 for topic "world" and 4 payload bytes). <message> is converted per the "encoding"
 * <input_format> (ASCII, hex, escaped). <msg_len> counts the message after hex conversion, or as
 * typed for ASCII and escaped input; 0 = "按照实际输入的数据发送". Messages are at most 1024 bytes
 * (note 18), topics 1–256 bytes (note 17).
 *
 * Where the manual is silent:
 * - An inline <message> whose length differs from a non-zero <msg_len> is refused (601).
 * - <message> may be quoted or not (drivers send hex unquoted: `…,4,3242`). Inside quotes a
 *   backslash escapes the next character for the parser (profile at.backslashInQuotes), so escaped
 *   input can carry `\"`; ASCII input is sent exactly as typed, backslashes included.
 * - Data mode: after `> ` the host sends exactly <msg_len> bytes (2 × <msg_len> hex digits with
 *   hex input), no CR/LF (OneMO drivers send exactly the length). With <msg_len> 0 the input ends
 *   with Ctrl+Z (ESC cancels: 601). If no byte arrives for the profile's dataIdleTimeoutMs (10 s),
 *   what arrived is sent, as later OneMO manuals document for their modules ("输入数据达到指定长度或
 *   超过10s时自动发送数据"); nothing at all is 601. Overflowing 1024 bytes with Ctrl+Z input is 601.
 * - A connection lost while the host types the message answers 602.
 */
import { ok, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import type { OneMoClient } from './client.js';
import { connectIdParam, mqttArgs, textFromAt, topicParam } from './args.js';
import { needConnected, requestRefused } from './connected.js';
import type { OneMoContext } from './context.js';
import { decodeInput, inputLengthFor, type InputFormat } from './encoding.js';
import { badParam } from './errors.js';

/** Longest escape sequence (`\xHH`) is four typed bytes for one sent byte. */
const MAX_ESCAPE_EXPANSION = 4;

export function mqttpubCommand(q: OneMoContext): CommandDef {
  const max = q.data.maxMessageLength;

  const send = (
    client: OneMoClient,
    topic: string,
    qos: 0 | 1 | 2,
    retain: boolean,
    dup: boolean,
    typed: Buffer,
    format: InputFormat,
  ): Outcome => {
    const payload = decodeInput(typed, format);
    if (typeof payload === 'string') return badParam(payload);
    if (payload.length > max) return badParam(`message longer than ${max} bytes`);
    const refused = needConnected(client);
    if (refused) return refused;
    const sent = client.publish(topic, payload, qos, retain, dup);
    if (!sent) return requestRefused(client);
    return ok(`+MQTTPUB: ${client.id},${sent.mid},${sent.length}`);
  };

  return {
    name: '+MQTTPUB',
    set: (ctx) =>
      mqttArgs(
        ctx,
        [
          connectIdParam(q),
          topicParam(q),
          { name: 'qos', type: 'int', min: 0, max: 2 },
          { name: 'retain', type: 'int', values: [0, 1] },
          { name: 'dup', type: 'int', values: [0, 1] },
          { name: 'msg_len', type: 'int', min: 0, max },
          { name: 'message', type: 'string', allowBare: true, optional: true },
        ],
        ([id, topicRaw, qosV, retainV, dupV, lenV, message]): Outcome => {
          const client = q.client(id);
          const topic = textFromAt(topicRaw);
          const qos = oneOf(qosV, [0, 1, 2]);
          const retain = retainV === 1;
          const dup = dupV === 1;
          const msgLen = lenV;
          const format = client.config.encoding.input;
          if (message !== undefined) {
            const typed = Buffer.from(message, 'latin1');
            if (msgLen !== 0) {
              const got = format === 1 ? typed.length / 2 : typed.length;
              if (got !== msgLen) return badParam(`<msg_len>=${msgLen} but the message has ${got}`);
            }
            return send(client, topic, qos, retain, dup, typed, format);
          }
          const refused = needConnected(client);
          if (refused) return refused;
          const idleTimeoutMs = q.data.dataIdleTimeoutMs;
          const spec =
            msgLen > 0
              ? { mode: 'fixed' as const, length: inputLengthFor(msgLen, format), idleTimeoutMs }
              : {
                  mode: 'ctrl-z' as const,
                  maxLength: format === 1 ? max * 2 : format === 2 ? max * MAX_ESCAPE_EXPANSION : max,
                  idleTimeoutMs,
                };
          return {
            type: 'prompt',
            spec,
            onData: (end: DataEnd): Outcome => {
              if (end.kind === 'cancelled') return badParam('data input cancelled (ESC)');
              if (end.kind === 'complete' && end.overflowed) return badParam('data input longer than allowed');
              if (end.kind === 'timeout' && end.payload.length === 0) return badParam('no data input');
              return send(client, topic, qos, retain, dup, end.payload, format);
            },
          };
        },
      ),
  };
}
