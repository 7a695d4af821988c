/**
 * AT+QMTPUB — publish a message, on the LTE Standard(A) family (EC200/EC600/EC800).
 *
 * Not in the EC200 MQTT application note v1.3, which documents only AT+QMTPUBEX (§3.3.8). Real
 * modules of the family accept it, and deployed firmware depends on it: Quectel's own official
 * MCU SDK, which lists EC800-class modules among its targets, publishes with the inline form
 * `AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>","<message>"` and waits for
 * `+QMTPUB: <idx>,<msgid>,<result>[,<value>]` (profile notes, "AT+QMTPUB"). The forms are the QMT
 * family's (as on the BC260Y, §3.3.8 of its manual, and the BG96 note):
 *   AT+QMTPUB=?  → +QMTPUB: (0-5),<msgid>,(0-2),(0,1),"topic","length"
 *   AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>"             → "> ", data up to Ctrl+Z (ESC cancels)
 *   AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>",<length>    → "> ", exactly <length> bytes
 *   AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>","<message>" → no data mode (the SDK's form)
 *   AT+QMTPUB=<idx>,<msgid>,<qos>,<retain>,"<topic>",<length>,"<message>" → no data mode
 *   each → OK, then +QMTPUB: <idx>,<msgid>,<result>[,<value>] with AT+QMTPUBEX's results.
 * Limits and rules are AT+QMTPUBEX's: the 5-message window, at most 1500 bytes, <msgid> 0 exactly
 * for QoS 0, an id in flight refused, hex input with dataformat <send_mode> 1. Errors are the
 * plain ERROR of the QMT set.
 */
import { ok, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { oneOf } from '../../common/decode.js';
import { clientIdxParam, clientRange, fail, qmtArgs } from './args.js';
import type { QmtClient } from './client.js';
import type { QmtContext } from './context.js';
import { topicFromAt } from './topics.js';

const URC = '+QMTPUB';

export function qmtpubCommand(q: QmtContext): CommandDef {
  const max = q.data.maxPublishLength;

  /** Input as typed → payload (hex text decoded with dataformat <send_mode> 1), or why not. */
  function payloadOf(client: QmtClient, typed: Buffer): Buffer | string {
    if (client.config.dataformat.send !== 1 && client.config.sendMode !== 1) return typed;
    const text = typed.toString('latin1');
    if (!/^([0-9a-fA-F]{2})*$/.test(text)) return 'payload is not hex text';
    return Buffer.from(text, 'hex');
  }

  function send(client: QmtClient, msgid: number, qos: 0 | 1 | 2, retain: boolean, topic: string, typed: Buffer): Outcome {
    const payload = payloadOf(client, typed);
    if (typeof payload === 'string') return fail(payload);
    if (payload.length > max) return fail(`message longer than ${max} bytes`);
    // The link may have gone while the host was typing.
    if (client.state !== 'connected') return fail('connection lost during input');
    client.publish(msgid, qos, retain, topicFromAt(topic), payload, URC);
    return ok();
  }

  return {
    name: '+QMTPUB',
    test: () => ok(`+QMTPUB: ${clientRange(q)},<msgid>,(0-2),(0,1),"topic","length"`),
    set: (ctx) => {
      // The sixth argument is a length (a number) or the message itself (a quoted string).
      const sixth = ctx.args[5];
      const inline = sixth?.kind === 'string' && ctx.args.length === 6;
      return qmtArgs(
        ctx,
        [
          clientIdxParam(q),
          { name: 'msgid', type: 'int', min: 0, max: 65535 },
          { name: 'qos', type: 'int', min: 0, max: 2 },
          { name: 'retain', type: 'int', values: [0, 1] },
          { name: 'topic', type: 'string', minLength: 1, maxLength: q.data.maxTopicLength },
          inline
            ? { name: 'message', type: 'string', optional: true }
            : { name: 'length', type: 'int', min: 0, max, optional: true },
          { name: 'message', type: 'string', optional: true },
        ],
        ([idx, id, qosArg, retainArg, topic, lengthOrMessage, lastMessage]): Outcome => {
          const client = q.client(idx);
          const msgid = id;
          const qos = oneOf(qosArg, [0, 1, 2]);
          const retain = retainArg === 1;
          if (client.state !== 'connected') return fail(`client ${client.idx} is ${client.state}, not connected`);
          if ((qos === 0) !== (msgid === 0)) return fail('<msgid> must be 0 exactly when <qos> is 0');
          if (qos !== 0 && client.idInFlight(msgid)) return fail(`msgid ${msgid} is still in flight`);
          if (client.publishesInFlight >= q.data.publishWindow) return fail('sliding window full');

          // Inline, the sixth value was decoded as the message itself; otherwise it is the length.
          if (typeof lengthOrMessage === 'string') return send(client, msgid, qos, retain, topic, Buffer.from(lengthOrMessage, 'latin1'));
          const length = lengthOrMessage;
          if (lastMessage !== undefined) {
            const typed = Buffer.from(lastMessage, 'latin1');
            if (typed.length !== length) return fail(`<message> is ${typed.length} bytes, <length> says ${String(length)}`);
            return send(client, msgid, qos, retain, topic, typed);
          }
          const edit = client.config.editTimeout;
          const idleTimeoutMs = edit.enabled ? edit.seconds * 1000 : q.data.dataIdleTimeoutMs;
          return {
            type: 'prompt',
            spec:
              length === undefined
                ? { mode: 'ctrl-z', maxLength: max, idleTimeoutMs, echo: client.config.viewMode === 1 }
                : { mode: 'fixed', length, idleTimeoutMs, echo: client.config.viewMode === 1 },
            onData: (end: DataEnd): Outcome => {
              // ESC: nothing is sent and no +QMTPUB follows, as AT+CMGS (3GPP TS 27.005 §3.5.1).
              if (end.kind === 'cancelled') return ok();
              if (end.kind !== 'complete') return fail(`data input ${end.kind}`);
              return send(client, msgid, qos, retain, topic, end.payload);
            },
          };
        },
      );
    },
  };
}
