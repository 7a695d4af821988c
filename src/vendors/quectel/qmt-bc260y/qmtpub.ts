/**
 * AT+QMTPUB 发布消息 — publish messages (BC260Y-CN manual §3.3.8), in its three forms:
 *   AT+QMTPUB=?  → +QMTPUB: (0-4),(0-65535),(0-2),(0,1),<topic>,(0-1460),<msg>
 *   AT+QMTPUB=<id>,<msgid>,<qos>,<retain>,"<topic>"
 *       → `>`; the data up to Ctrl+Z is sent, ESC cancels (数据模式下发布不定长消息)
 *   AT+QMTPUB=<id>,<msgid>,<qos>,<retain>,"<topic>",<msglen>
 *       → `>`; exactly <msglen> bytes are read, then sent (数据模式下发布定长消息)
 *   AT+QMTPUB=<id>,<msgid>,<qos>,<retain>,"<topic>",<msglen>,<msg>
 *       → the message is the last argument, no data mode (非数据模式下发布定长消息)
 *   each → OK, then +QMTPUB: <id>,<msgid>,<result>[,<value>] (0 sent/acknowledged, 1 retransmission
 *   with its count, 2 failed — then the module drops the connection, +QMTSTAT 6).
 *
 * Rules from the manual: <msgid> 0–65535 and 0 exactly for QoS 0; <topic> 0–256 bytes; <msglen>
 * 0–1460; data-mode input at most 1460 bytes, "超出 1460 字节的部分不会被发送" (the excess is
 * dropped, the first 1460 bytes go out, note 2); 60 s without data leaves data mode (note 3);
 * <echo_mode> decides whether data-mode input is echoed (§3.3.1 note 6); <send_format> 1 means the
 * input is hex text.
 *
 * Where the manual is silent:
 * - A QoS 1/2 <msgid> of 0 is refused (8507): PUBLISH packet ids are non-zero [MQTT-2.3.1-1].
 * - Note 1 asks the host to wait for the final result before publishing again; a publish while a
 *   QoS 1/2 one still waits for its acknowledgement answers 8508 (the transmit buffer is taken).
 * - <msglen> counts the bytes as typed (hex digits with <send_format> 1, decoded afterwards), for
 *   all three forms; in the one-line form <msg> must be exactly <msglen> bytes (8507 otherwise).
 *   <msg> may be quoted or a bare token.
 * - ESC answers OK and sends nothing (no +QMTPUB follows), as AT+CMGS does (3GPP TS 27.005 §3.5.1).
 *   The 60 s timeout answers 8600 "MQTT unknown error"; nothing is sent. The fixed-length form
 *   reads exactly <msglen> bytes, so Ctrl+Z and ESC are data there.
 */
import { ok, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import type { QmtClient } from '../qmt/client.js';
import type { Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange, failWith, isFault } from './errors.js';
import { checkTopic } from './text.js';

export function qmtpubCommand(q: Bc260yContext): CommandDef {
  const d = q.data;
  const log = q.device.log.child({ component: 'qmt' });

  /** Input as typed → payload: hex text is decoded with <send_format> 1 (8505 if not hex). */
  function payloadOf(client: QmtClient, typed: Buffer): Buffer | Outcome {
    if (client.config.dataformat.send !== 1) return typed;
    const text = typed.toString('latin1');
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) return failWith(q, 'illegalCharacter', 'input is not hex text (<send_format> 1)');
    return Buffer.from(text, 'hex');
  }

  function send(client: QmtClient, msgid: number, qos: 0 | 1 | 2, retain: boolean, topic: string, typed: Buffer): Outcome {
    const payload = payloadOf(client, typed);
    if (!Buffer.isBuffer(payload)) return payload;
    // The link may have gone while the host was typing.
    if (client.state !== 'connected') return failWith(q, 'linkError', `client ${client.idx} lost its connection`);
    client.publish(msgid, qos, retain, topic, payload);
    return ok();
  }

  return {
    name: '+QMTPUB',
    test: () => ok(`+QMTPUB: ${connectIdRange(q)},(0-65535),(0-2),(0,1),<topic>,(0-${d.maxPublishLength}),<msg>`),
    set: (ctx) =>
      bcArgs(
        q,
        ctx,
        [
          connectIdParam(q),
          { name: 'msgid', type: 'int', min: 0, max: 65535 },
          { name: 'qos', type: 'int', min: 0, max: 2 },
          { name: 'retain', type: 'int', values: [0, 1] },
          { name: 'topic', type: 'string' },
          { name: 'msglen', type: 'int', min: 0, max: d.maxPublishLength, optional: true },
          { name: 'msg', type: 'string', allowBare: true, optional: true },
        ],
        ([idx, msgidArg, qosArg, retainArg, topicArg, msglen, msg]): Outcome => {
          const msgid = msgidArg;
          const qos = oneOf(qosArg, [0, 1, 2]);
          const retain = retainArg === 1;
          const topic = checkTopic(q, topicArg, 'name');
          if (isFault(topic)) return failWith(q, topic.cause, topic.reason);
          if (qos === 0 && msgid !== 0) return failWith(q, 'invalidParameter', '<msgid> must be 0 for QoS 0');
          if (qos !== 0 && msgid === 0) return failWith(q, 'invalidParameter', '<msgid> 0 is not a packet id for QoS 1/2');
          if (msg !== undefined && msglen === undefined) return failWith(q, 'invalidParameter', '<msg> without <msglen>');

          const client = q.client(idx);
          if (client.state !== 'connected') return failWith(q, 'linkError', `client ${client.idx} is ${client.state}, not connected`);
          if (client.publishesInFlight >= d.publishWindow) return failWith(q, 'exceedsBuffer', 'previous publish still waits for its result (note 1)');
          if (qos !== 0 && client.idInFlight(msgid)) return failWith(q, 'invalidParameter', `msgid ${msgid} is still in flight`);

          // 非数据模式下发布定长消息: the message is the last argument.
          if (msg !== undefined) {
            const typed = Buffer.from(msg, 'latin1');
            if (typed.length !== msglen) return failWith(q, 'invalidParameter', `<msg> is ${typed.length} bytes, <msglen> says ${String(msglen)}`);
            return send(client, msgid, qos, retain, topic, typed);
          }

          const echo = client.config.viewMode === 1;
          const onData = (end: DataEnd): Outcome => {
            switch (end.kind) {
              case 'cancelled':
                log.debug({ client: client.idx, msgid }, 'publish cancelled with ESC');
                return ok();
              case 'timeout':
                return failWith(q, 'unknown', `no data for ${d.dataIdleTimeoutMs} ms; data mode left (note 3)`);
              case 'complete':
                if (end.overflowed) log.warn({ client: client.idx, msgid, max: d.maxPublishLength }, 'input beyond the maximum length dropped (note 2)');
                return send(client, msgid, qos, retain, topic, end.payload);
            }
          };
          return {
            type: 'prompt',
            spec:
              msglen === undefined
                ? { mode: 'ctrl-z', maxLength: d.maxPublishLength, idleTimeoutMs: d.dataIdleTimeoutMs, echo }
                : { mode: 'fixed', length: msglen, idleTimeoutMs: d.dataIdleTimeoutMs, echo },
            onData,
          };
        },
      ),
  };
}
