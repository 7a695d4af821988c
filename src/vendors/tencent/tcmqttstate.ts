/**
 * AT+TCMQTTSTATE — 查询 MQTT 连接状态 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.7).
 *   AT+TCMQTTSTATE=?  → OK
 *   AT+TCMQTTSTATE?   → +TCMQTTSTATE:<state>  OK   (0 disconnected, 1 connected)
 * Connecting and reconnecting count as disconnected: nothing can be published yet.
 */
import { ok, type CommandDef } from '../../at/types.js';
import type { TencentContext } from './context.js';

export function tcmqttstateCommand(q: TencentContext): CommandDef {
  return {
    name: '+TCMQTTSTATE',
    test: () => ok(),
    read: () => ok(q.fmt.line('TCMQTTSTATE', q.client.connected ? '1' : '0')),
  };
}
