/**
 * Per-client settings of AT+MQTTCFG (manual §3.1 "AT+MQTTCFG 配置连接参数"). "模组掉电后配置参数不保存":
 * they live until a reboot.
 */
import type { OneMoProfileData } from './context.js';

export interface OneMoWill {
  /** <will_flag>: CONNECT carries the will (when a topic is set). */
  flag: boolean;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** <will_topic> as text (UTF-8). */
  topic: string;
  /** <will_msg> as typed (reported back by the query form). */
  messageText: string;
  /** <will_msg> after the "encoding" input conversion in force when it was set. */
  message: Buffer;
}

export interface OneMoClientConfig {
  /** <version> 3 = MQTT 3.1, 4 = MQTT 3.1.1 (default 4). */
  version: 3 | 4;
  /** <cid> PDP context (ML307R default 1). */
  cid: number;
  ssl: { enabled: boolean; id: number };
  /** <keepalive_time> seconds: 0 or 60–65535, default 120. */
  keepalive: number;
  /** <clean_session> default 0. */
  clean: boolean;
  /** <retrans_interval> 20–60 s (default 20), <retry_times> 0–3 (default 0). */
  retrans: { interval: number; retries: number };
  will: OneMoWill;
  /** <ping_interval> 60–86400 s, default 120. */
  pingInterval: number;
  /** <pingack>: report ping results (default 0). */
  pingack: boolean;
  /** <input_format> 0 ASCII, 1 hex, 2 escaped; <output_format> 0 raw, 1 hex. */
  encoding: { input: 0 | 1 | 2; output: 0 | 1 };
  /** <cached_mode>: keep received messages for AT+MQTTREAD (default 0). */
  cached: boolean;
  /** <reconn_times> 0–3 (default 3), <reconn_interval> 20–60 s (default 20), <mode> 0 fixed / 1 n×interval. */
  reconn: { times: number; interval: number; mode: 0 | 1 };
}

export function defaultClientConfig(data: OneMoProfileData): OneMoClientConfig {
  return {
    version: 4,
    cid: data.cid.default,
    ssl: { enabled: false, id: 0 },
    keepalive: 120,
    clean: false,
    retrans: { interval: 20, retries: 0 },
    will: { flag: false, qos: 0, retain: false, topic: '', messageText: '', message: Buffer.alloc(0) },
    pingInterval: 120,
    pingack: false,
    encoding: { input: 0, output: 0 },
    cached: false,
    reconn: { times: 3, interval: 20, mode: 0 },
  };
}
