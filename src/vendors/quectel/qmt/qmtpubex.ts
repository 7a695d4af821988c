/**
 * AT+QMTPUBEX — publish a message of fixed length (EC200 manual §3.3.8).
 *   AT+QMTPUBEX=?  → +QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),"topic","length"
 *   AT+QMTPUBEX=<client_idx>,<msgid>,<qos>,<retain>,"<topic>",<length>
 *                  → "> ", exactly <length> bytes, OK, then +QMTPUBEX: <client_idx>,<msgid>,<result>[,<value>]
 * Notes 1–2: at most 5 messages in flight (sliding window) or ERROR; at most 1500 bytes.
 * <msgid> is 0 exactly when <qos> is 0. An id still in flight is refused, since a second
 * PUBLISH with it would be a protocol error. With dataformat <send_mode> 1 the input is hex text.
 */
import { ok, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { clientIdxParam, clientRange, fail, qmtArgs } from './args.js';
import type { QmtContext } from './context.js';
import { topicFromAt } from './topics.js';

export function qmtpubexCommand(q: QmtContext): CommandDef {
  return {
    name: '+QMTPUBEX',
    test: () => ok(`+QMTPUBEX: ${clientRange(q)},<msgid>,(0-2),(0,1),"topic","length"`),
    set: (ctx) =>
      qmtArgs(
        ctx,
        [
          clientIdxParam(q),
          { name: 'msgid', type: 'int', min: 0, max: 65535 },
          { name: 'qos', type: 'int', min: 0, max: 2 },
          { name: 'retain', type: 'int', values: [0, 1] },
          { name: 'topic', type: 'string', minLength: 1, maxLength: q.data.maxTopicLength },
          { name: 'length', type: 'int', min: 1, max: q.data.maxPublishLength },
        ],
        ([idx, msgid, qos, retain, topic, length]): Outcome => {
          const client = q.client(idx);
          const id = msgid;
          if (client.state !== 'connected') return fail(`client ${client.idx} is ${client.state}, not connected`);
          if ((qos === 0) !== (id === 0)) return fail('<msgid> must be 0 exactly when <qos> is 0');
          if (qos !== 0 && client.idInFlight(id)) return fail(`msgid ${id} is still in flight`);
          if (client.publishesInFlight >= q.data.publishWindow) return fail('sliding window full');
          const edit = client.config.editTimeout;
          return {
            type: 'prompt',
            spec: {
              mode: 'fixed',
              length,
              idleTimeoutMs: edit.enabled ? edit.seconds * 1000 : q.data.dataIdleTimeoutMs,
              echo: client.config.viewMode === 1,
            },
            onData: (end: DataEnd): Outcome => {
              if (end.kind !== 'complete') return fail(`data input ${end.kind}`);
              const hex = client.config.dataformat.send === 1 || client.config.sendMode === 1;
              let payload = end.payload;
              if (hex) {
                const text = payload.toString('latin1');
                if (!/^([0-9a-fA-F]{2})*$/.test(text)) return fail('payload is not hex text');
                payload = Buffer.from(text, 'hex');
              }
              // The link may have gone while the host was typing.
              if (client.state !== 'connected') return fail('connection lost during input');
              client.publish(id, oneOf(qos, [0, 1, 2]), retain === 1, topicFromAt(topic), payload);
              return ok();
            },
          };
        },
      ),
  };
}
