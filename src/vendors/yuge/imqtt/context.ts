/**
 * What every YUGE IMQTT command file shares: the device, the module's single MQTT client, its
 * flash, and the profile's data for the set (profiles/<id>.json → settings["yuge-imqtt"]).
 * Manual: "CLM920_RC3(AC3) MQTT AT Command Manual" V1.06 (shared/specs/yuge-clm920-mqtt.txt).
 */
import type { Device } from '../../../modem/device.js';
import type { FlashStore } from '../../../modem/module-flash.js';
import type { YugeClient } from './client.js';

/** Limits and defaults of the set. Where the manual gives none, the profile's notes say why. */
export interface YugeProfileData {
  /** <addr> of AT+IMQTTADDR (manual gives no limit). */
  maxAddrLength: number;
  /** <clientId> of AT+IMQTTADDR: Aliyun's connwl ids with their parameters run to ~100 bytes (§2.16). */
  maxClientIdLength: number;
  /** <userName>, <password> of AT+IMQTTUSER. */
  maxUserLength: number;
  maxPasswordLength: number;
  /** <topic> of SUB/UNSUB/PUB/PUBIN/PUBEX/LWT. */
  maxTopicLength: number;
  /** Largest message of one publish or will (§2.13 <size> "最大 1024", applied to every form). */
  maxMessageLength: number;
  /** <ProduceKey>, <DeviceName>, <DeviceSecret>/<ProduceSecret> of AT+IMQTTAUTH / AT+IMQTTDYNREG. */
  maxProductKeyLength: number;
  maxDeviceNameLength: number;
  maxSecretLength: number;
  /** Messages kept in cache mode (§2.19.3: "10 条缓存满后上报 FULL"). */
  cacheSize: number;
  /** AT+IMQTTSTATE reports 2 ("信号好") from this AT+CSQ <rssi> up; below it, or 99, 1 (§2.14). */
  goodSignalRssi: number;
  /** AT+IMQTTPUBEX data mode gives up after this long without a byte (manual silent). */
  dataIdleTimeoutMs: number;
  /** The port used when AT+IMQTTADDR was never given (Aliyun's MQTT port, §2.16 examples). */
  defaultPort: number;
  /** Aliyun host template for mode 1 without AT+IMQTTADDR; `{productKey}` is filled in. */
  aliyunHost: string;
  /** AT+IMQTTPARA power-on values (VERSION "默认 3.1.1", §2.2; the others unstated). */
  defaults: { timeout: number; clean: 0 | 1; keepalive: number; version: '3.1' | '3.1.1' };
}

export interface YugeContext {
  readonly device: Device;
  readonly data: YugeProfileData;
  readonly client: YugeClient;
  /** The module's flash, looked up at each use (the modem may attach one after the set is built). */
  flash(): FlashStore;
}
