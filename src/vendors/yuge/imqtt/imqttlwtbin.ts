/**
 * AT+IMQTTLWTBIN — 设置遗嘱消息 (HEXString) (manual §2.6 "AT+IMQTTLWTBIN 设置遗嘱消息 (HEXString)").
 *   AT+IMQTTLWTBIN=<topic>,<qos>,<message>[,<retained>]  → OK
 *   AT+IMQTTLWTBIN?   → +IMQTTLWTBIN:<topic>,<qos>,<message>,<retained>  OK
 *   AT+IMQTTLWTBIN=?  → OK
 * <message> is the HEXString of the will's bytes ("用于设置 JOSH 等格式的消息内容"): even length,
 * either case (`77696C6C5F6D657373616765` = "will_message"); anything else is ERROR. See will.ts.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs } from './args.js';
import type { YugeContext } from './context.js';
import { setWill, willLine, willParams } from './will.js';

export function imqttlwtbinCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTLWTBIN',
    test: () => ok(),
    read: () => ok(willLine(q, '+IMQTTLWTBIN', true)),
    set: (ctx) => imqttArgs(ctx, willParams(q, q.data.maxMessageLength * 2), (values) => setWill(q, values, true)),
  };
}
