/**
 * AT+IMQTTSTATE — 查询 MQTT 连接状态 (manual §2.14 "AT+IMQTTSTATE 查询 MQTT 连接状态").
 *   AT+IMQTTSTATE?   → +IMQTTSTATE:<status>  OK
 *   AT+IMQTTSTATE=?  → OK
 * <status>: 0 disconnected; 1 connected but the signal is poor ("连接信号不佳"); 2 connected with
 * a good signal. The syntax row prints OK first; the example (`+IMQTTSTATE:2`, then `OK`) is the
 * module's order and is followed.
 *
 * Where the manual is silent: "good" means an AT+CSQ <rssi> of at least the profile's
 * goodSignalRssi (10 ≈ −93 dBm); 99 (unknown) is poor. A connection still being made is 0.
 */
import { ok, type CommandDef } from '../../../at/types.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export function imqttstateCommand(q: YugeContext): CommandDef {
  return {
    name: '+IMQTTSTATE',
    test: () => ok(),
    read: () => ok(line('+IMQTTSTATE', q.client.stateCode)),
  };
}
