/**
 * Profile data of the BC260Y-CN QMT set (profiles/quectel-bc260y.json →
 * settings["quectel-qmt-bc260y"]): the limits, power-on settings, URC shapes and CME error codes
 * of "BC260Y-CN MQTT 应用指导" v1.0. Behaviour shared with the EC200 lives in ../qmt/; this file
 * turns the data into the shared client's dialect.
 */
import type { Device } from '../../../modem/device.js';
import { defaultClientConfig, type QmtClientConfig } from '../qmt/client-config.js';
import type { QmtClient } from '../qmt/client.js';
import type { QmtProfileData } from '../qmt/context.js';
import type { QmtDialect } from '../qmt/dialect.js';

export const QMT_BC260Y_SET_ID = 'quectel-qmt-bc260y';

/** Causes of the manual's chapter 4 error codes (table 2), mapped to numbers by the profile. */
export type Bc260yErrorCause =
  /** 8503 MQTT link error. */
  | 'linkError'
  /** 8504 MQTT illegal packet. */
  | 'illegalPacket'
  /** 8505 MQTT illegal character. */
  | 'illegalCharacter'
  /** 8506 MQTT illegal UTF8. */
  | 'illegalUtf8'
  /** 8507 MQTT invalid parameter. */
  | 'invalidParameter'
  /** 8508 The length of transmitted data exceeds that of remaining transmitted buffer. */
  | 'exceedsBuffer'
  /** 8509 MQTT buffer overflow. */
  | 'bufferOverflow'
  /** 8510 MQTT out of memory. */
  | 'outOfMemory'
  /** 8511 MQTT memory error. */
  | 'memoryError'
  /** 8600 MQTT unknown error. */
  | 'unknown';

const CAUSES: readonly Bc260yErrorCause[] = [
  'linkError',
  'illegalPacket',
  'illegalCharacter',
  'illegalUtf8',
  'invalidParameter',
  'exceedsBuffer',
  'bufferOverflow',
  'outOfMemory',
  'memoryError',
  'unknown',
];

/** Power-on values of AT+QMTCFG (§3.3.1), in the manual's own encodings. */
export interface Bc260yDefaults {
  /** <version_num>: 0 = MQTT 3.1, 1 = MQTT 3.1.1. */
  version: 0 | 1;
  /** <keep-alive_time>, seconds (default 120). */
  keepalive: number;
  /** <clean_session>. */
  cleanSession: 0 | 1;
  /** <pkttimeout> seconds (default 30), <retry_times> (default 0), <timeout_notice>. */
  pktTimeout: number;
  retryTimes: number;
  timeoutNotice: 0 | 1;
  /** <show_flag>: 0, "默认为不显示接收的数据长度" (§6.1). */
  showrecvlen: 0 | 1;
  /** <echo_mode>. */
  echomode: 0 | 1;
  /** <send_format>, <recv_format>: 0 text, 1 hex. */
  sendFormat: 0 | 1;
  recvFormat: 0 | 1;
}

export interface Bc260yData extends QmtProfileData {
  /** <will_topic> and <will_msg>: 0–256 bytes (§3.3.1). */
  willTopicMax: number;
  willMessageMax: number;
  /** Longest <clientID>/<username>/<password> accepted (the manual gives none). */
  maxCredentialLength: number;
  urc: { publish: string; ping: boolean; unsubscribeRetransmitCount: boolean };
  connectTimeout: QmtDialect['connectTimeout'];
  closeIdleResult: number;
  defaults: Bc260yDefaults;
  errors: Record<Bc260yErrorCause, number>;
}

/** What every BC260Y command file shares: the device, the five clients and the profile data. */
export interface Bc260yContext {
  readonly device: Device;
  readonly data: Bc260yData;
  readonly clients: readonly QmtClient[];
  /** The client for a validated index. */
  client(idx: number): QmtClient;
}

/** <version_num> (0/1) ↔ the MQTT protocol level the link speaks (3 = 3.1, 4 = 3.1.1). */
export const versionToProtocol = (v: number): 3 | 4 => (v === 0 ? 3 : 4);
export const protocolToVersion = (p: 3 | 4): 0 | 1 => (p === 3 ? 0 : 1);

export function readBc260yData(device: Device): Bc260yData {
  const where = `profile ${device.profile.id}: settings["${QMT_BC260Y_SET_ID}"]`;
  const d = device.profile.settings[QMT_BC260Y_SET_ID] as Partial<Bc260yData> | undefined;
  if (!d) throw new Error(`${where} missing`);
  for (const k of ['maxClientIdx', 'maxHostLength', 'publishWindow', 'maxPublishLength', 'maxTopicLength', 'maxTopicsPerRequest', 'dataIdleTimeoutMs'] as const) {
    if (typeof d[k] !== 'number') throw new Error(`${where}.${k} must be a number`);
  }
  if (!d.defaults || !d.urc || !d.errors) throw new Error(`${where} needs "defaults", "urc" and "errors"`);
  for (const c of CAUSES) if (typeof d.errors[c] !== 'number') throw new Error(`${where}.errors.${c} must be a number`);
  return d as Bc260yData;
}

function powerOnConfig(d: Bc260yDefaults): QmtClientConfig {
  const cfg = defaultClientConfig();
  cfg.version = versionToProtocol(d.version);
  cfg.keepalive = d.keepalive;
  cfg.cleanSession = d.cleanSession === 1;
  cfg.timeout = { pktTimeout: d.pktTimeout, retryTimes: d.retryTimes, timeoutNotice: d.timeoutNotice === 1 };
  // "showrecvlen" is the EC200's recv/mode <msg_len_enable>; the BC260Y always reports directly.
  cfg.recv = { mode: 0, lenEnable: d.showrecvlen };
  // "echomode" is the EC200's view/mode: echo of data-mode input.
  cfg.viewMode = d.echomode;
  cfg.dataformat = { send: d.sendFormat, recv: d.recvFormat };
  cfg.sendMode = d.sendFormat;
  return cfg;
}

export function bc260yDialect(d: Bc260yData): QmtDialect {
  return {
    publishUrc: d.urc.publish,
    pingUrc: d.urc.ping,
    unsubscribeRetransmitCount: d.urc.unsubscribeRetransmitCount,
    connectTimeout: d.connectTimeout,
    closeIdleResult: d.closeIdleResult,
    // §3.3.6: <msgID> 1-65535, and no evidence of NB-IoT firmware sending 0.
    subscribeMsgIdZero: false,
    defaults: () => powerOnConfig(d.defaults),
  };
}
