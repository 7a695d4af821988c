/**
 * AT+IMQTTLWT — 设置遗嘱消息 (manual §2.5 "AT+IMQTTLWT 设置遗嘱消息").
 *   AT+IMQTTLWT=<topic>,<qos>,<message>[,<retained>]  → OK
 *   AT+IMQTTLWT?   → +IMQTTLWT:<topic>,<qos>,<message>,<retained>  OK
 *   AT+IMQTTLWT=?  → OK
 * <qos> 0–2; <message> text ("json 格式的数据请使用+IMQTTLWTBIN 命令": a message with commas or
 * quotes needs the HEX form); <retained> 0 (default) or 1. See will.ts for the shared rules.
 * §2.5's example reads back `+IMQTTLWT: will_topic,…` after `AT+IMQTTLWT= will_topic,…`: the space
 * is the typed one (format.ts); arguments are trimmed here.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs } from './args.js';
import type { YugeContext } from './context.js';
import { setWill, willLine, willParams } from './will.js';

export function imqttlwtCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTLWT',
    test: () => ok(),
    read: () => ok(willLine(q, '+IMQTTLWT', false)),
    set: (ctx) => imqttArgs(ctx, willParams(q, q.data.maxMessageLength), (values) => setWill(q, values, false)),
  };
}
