/**
 * Per-client settings of the Quectel QMT family (AT+QMTCFG, EC200 manual §3.3.1). Settings take
 * effect at the next AT+QMTOPEN/AT+QMTCONN and are not saved ("参数配置不保存").
 */

export interface WillConfig {
  enabled: boolean;
  qos: 0 | 1 | 2;
  retain: boolean;
  topic: string;
  message: Buffer;
}

export interface QmtClientConfig {
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1. */
  version: 3 | 4;
  pdpcid: number;
  ssl: { enabled: boolean; ctxIdx: number };
  /** Seconds, 0–3600. */
  keepalive: number;
  /** 1 = clean session. */
  cleanSession: boolean;
  timeout: { pktTimeout: number; retryTimes: number; timeoutNotice: boolean };
  will: WillConfig;
  /** willex stores its own record (its read form reports <will_len>). */
  willex: WillConfig;
  recv: { mode: 0 | 1; lenEnable: 0 | 1 };
  aliauth?: { productKey: string; deviceName: string; deviceSecret: string };
  qmtping: number;
  sendMode: 0 | 1;
  onenet?: { productId: string; accessKey: string };
  hwauth?: { productId: string; deviceSecret: string };
  hwprodid?: { productId: string; productSecret: string; nodeId: string };
  /** 0 = text, 1 = hex (send and receive). */
  dataformat: { send: 0 | 1; recv: 0 | 1 };
  viewMode: 0 | 1;
  editTimeout: { enabled: boolean; seconds: number };
}

export function defaultClientConfig(): QmtClientConfig {
  return {
    version: 4,
    pdpcid: 1,
    ssl: { enabled: false, ctxIdx: 0 },
    keepalive: 120,
    cleanSession: true,
    timeout: { pktTimeout: 5, retryTimes: 3, timeoutNotice: false },
    will: { enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) },
    willex: { enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) },
    recv: { mode: 0, lenEnable: 0 },
    qmtping: 5,
    sendMode: 0,
    dataformat: { send: 0, recv: 0 },
    viewMode: 0,
    editTimeout: { enabled: false, seconds: 60 },
  };
}
