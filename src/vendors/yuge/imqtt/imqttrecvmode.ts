/**
 * AT+IMQTTRECVMODE — 设置 MQTT 接收数据的方式 (manual §2.17 "AT+IMQTTRECVMODE 设置 MQTT 接收数据的方式").
 *   AT+IMQTTRECVMODE=<recvMode>  → OK
 *   AT+IMQTTRECVMODE?            → +IMQTTRECVMODE: <recvMode>  OK
 *   AT+IMQTTRECVMODE=?           → OK
 * <recvMode>: 0 report each message at once (+IMQTTRCVPUB, §2.19.2), 1 cache it for AT+IMQTTRECV
 * (+IMQTTCOUNT, §2.19.3). The same setting as AT+IMQTTMODE's third value; it applies at once.
 *
 * The manual's table prints the test row as "AT+IMQTTMODE=?  OK" and its example shows
 * `AT+IMQTTRECVMODE=?` answering `+IMQTTRECVMODE: 1` — a read-form reply under the wrong command
 * (scan slips). The test form answers OK like every other IMQTT test form; the read form answers
 * with the example's line, a space after the colon included (see format.ts).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs } from './args.js';
import type { YugeContext } from './context.js';
import { spacedLine } from './format.js';

export function imqttrecvmodeCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTRECVMODE',
    test: () => ok(),
    read: () => ok(spacedLine('+IMQTTRECVMODE', q.client.config.recvMode)),
    set: (ctx) =>
      imqttArgs(ctx, [{ name: 'recvMode', type: 'int', values: [0, 1] }], ([mode]) => {
        q.client.config.recvMode = mode;
        return ok();
      }),
  };
}
