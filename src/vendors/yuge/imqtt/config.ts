/**
 * The module's MQTT settings (manual §2.1–§2.6, §2.15, §2.17). They live in RAM: the manual says
 * nothing about keeping them, so a reboot restores the power-on values. Only the triples that
 * AT+IMQTTDYNREG saves are kept in flash (§2.16, see dynreg-store.ts).
 */
import type { YugeProfileData } from './context.js';

export interface YugeWill {
  topic: string;
  qos: 0 | 1 | 2;
  payload: Buffer;
  retain: boolean;
  /** The hex text as AT+IMQTTLWTBIN gave it (its read form repeats it as typed, §2.6). */
  hexTyped?: string;
}

export interface YugeConfig {
  /** AT+IMQTTMODE <mode>: 1 Aliyun MQTT, 2 standard MQTT (§2.1). */
  mode: 1 | 2;
  /** AT+IMQTTMODE <tls>. */
  tls: boolean;
  /** AT+IMQTTMODE <recvMode> / AT+IMQTTRECVMODE: 0 report at once, 1 cache for AT+IMQTTRECV. */
  recvMode: 0 | 1;
  /** AT+IMQTTPARA (§2.2). */
  timeout: number;
  clean: 0 | 1;
  keepalive: number;
  version: '3.1' | '3.1.1';
  /** AT+IMQTTUSER (§2.3); empty = none sent. */
  username: string;
  password: string;
  /** AT+IMQTTADDR (§2.4); addr '' = never set. */
  addr: string;
  port: number;
  clientId: string;
  /** AT+IMQTTLWT / AT+IMQTTLWTBIN (§2.5, §2.6); undefined = no will. */
  will: YugeWill | undefined;
  /** AT+IMQTTAUTH (§2.15): the Aliyun one-device-one-secret triple; undefined = not set. */
  auth: { productKey: string; deviceName: string; deviceSecret: string } | undefined;
}

/**
 * Power-on values. AT+IMQTTMODE? in §2.1 prints `+IMQTTMODE:2,0,0` (standard MQTT, no TLS,
 * direct reporting); AT+IMQTTPARA's from the profile.
 */
export function defaultConfig(data: YugeProfileData): YugeConfig {
  return {
    mode: 2,
    tls: false,
    recvMode: 0,
    timeout: data.defaults.timeout,
    clean: data.defaults.clean,
    keepalive: data.defaults.keepalive,
    version: data.defaults.version,
    username: '',
    password: '',
    addr: '',
    port: data.defaultPort,
    clientId: '',
    will: undefined,
    auth: undefined,
  };
}
