/**
 * What differs between modules of the Quectel QMT family in the client state machine: the names
 * and shapes of a few result URCs, one timeout rule and the power-on settings. Everything else in
 * QmtClient (states, +QMTOPEN/+QMTCONN/+QMTSUB result codes, +QMTSTAT causes, +QMTRECV format) is
 * the same across the family and stays shared.
 *
 * The EC200 values are the default; other modules build theirs from their profile data.
 */
import { defaultClientConfig, type QmtClientConfig } from './client-config.js';

export interface QmtDialect {
  /** URC carrying the publish result: `+QMTPUBEX` (EC200 §3.3.8), `+QMTPUB` (BC260Y §3.3.8). */
  publishUrc: string;
  /** `+QMTPING: <idx>,1` before `+QMTSTAT: <idx>,2` on a keepalive timeout (EC200 §4.3). */
  pingUrc: boolean;
  /**
   * `+QMTUNS: <idx>,<msgid>,1,<count>` on a retransmission (EC200 §3.3.7), or without the count
   * (BC260Y §3.3.7 documents no <value> for AT+QMTUNS).
   */
  unsubscribeRetransmitCount: boolean;
  /**
   * How long AT+QMTCONN waits for CONNACK: `<pkt_timeout>` (EC200), or
   * `<pkttimeout> × (<retry_times> + 1)` (BC260Y §3.3.4 "最大响应时间").
   */
  connectTimeout: 'pkt-timeout' | 'pkt-timeout-times-tries';
  /**
   * `+QMTCLOSE <result>` for an index with no network open: 0 (EC200 treats it as done), or -1
   * "关闭网络失败" (BC260Y).
   */
  closeIdleResult: number;
  /**
   * <msgid> 0 accepted by AT+QMTSUB/AT+QMTUNS (real EC800-class modules, profile notes); the
   * module picks the packet id.
   */
  subscribeMsgIdZero: boolean;
  /** Power-on settings of one client. */
  defaults(): QmtClientConfig;
}

export const EC200_DIALECT: QmtDialect = {
  publishUrc: '+QMTPUBEX',
  pingUrc: true,
  unsubscribeRetransmitCount: true,
  connectTimeout: 'pkt-timeout',
  closeIdleResult: 0,
  subscribeMsgIdZero: true,
  defaults: defaultClientConfig,
};
