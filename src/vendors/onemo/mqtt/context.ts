/**
 * What every OneMO MQTT command file shares: the device, the clients (<connect_id> 0–5) and the
 * profile's data for the set (profiles/<id>.json → settings["onemo-mqtt"]).
 * Manual: OneMO "MQTT用户手册" V6.7.0 (shared/specs/cmiot-onemo-mqtt.txt).
 */
import type { Device } from '../../../modem/device.js';
import type { OneMoClient } from './client.js';

/** Profile data of the OneMO MQTT set. Numbers are the ML307R's where the manual's footnotes differ per module. */
export interface OneMoProfileData {
  /** Highest <connect_id> (§3.1 note 2: 0~5; MN316A/MN319: 0~2). */
  maxConnectId: number;
  /** <version> values accepted (§3.1 note 3: "当前仅支持<version>=4"). */
  versions: number[];
  /** <cid> range and default (§3.1 note 4: ML307R 1~15, default 1). */
  cid: { min: number; max: number; default: number };
  /** <ssl_id> range (§3.1 note 6: 0~5). */
  sslIdMax: number;
  /** AT+MQTTCONN string limits (§3.2): host 128, clientID 128, user 128, passwd 256. */
  maxHostLength: number;
  maxClientIdLength: number;
  maxUserLength: number;
  maxPasswordLength: number;
  /** <port> when omitted (§3.2: 1883). */
  defaultPort: number;
  /** Longest <topic> (§3.3 note 12, §3.4 note 15, §3.5 note 17: 256). */
  maxTopicLength: number;
  /** Topics per AT+MQTTSUB / AT+MQTTUNSUB (§3.3, §3.4 notes: 3). */
  maxTopicsPerRequest: number;
  /** Longest message of one AT+MQTTPUB (§3.5 note 18: 1024). */
  maxMessageLength: number;
  /** <will_topic>, <will_msg> (§3.1: 0~256 bytes). */
  maxWillLength: number;
  /** Receive cache for "cached" mode (§3.6: 4G modules 8 KB). */
  cacheBytes: number;
  /** A "publish" URC whose topic + payload exceeds this is split (§3.9 note: 512). */
  urcSplitLength: number;
  /** Data mode gives up waiting for input after this long without a byte (manual silent). */
  dataIdleTimeoutMs: number;
}

export interface OneMoContext {
  readonly device: Device;
  readonly data: OneMoProfileData;
  readonly clients: readonly OneMoClient[];
  /** The client for a validated <connect_id>. */
  client(id: number): OneMoClient;
}
