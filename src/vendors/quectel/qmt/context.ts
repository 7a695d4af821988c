/**
 * What every QMT command file shares: the device, the six clients and the profile's QMT data.
 */
import type { Device } from '../../../modem/device.js';
import type { QmtClient } from './client.js';

/** Profile data of the QMT set (profiles/<id>.json → settings["quectel-qmt"]). */
export interface QmtProfileData {
  /** Highest <client_idx> (EC200: 5). */
  maxClientIdx: number;
  /** Longest <host_name> (EC200: 100). */
  maxHostLength: number;
  /** Sliding window of in-flight publishes (EC200 §3.3.8 note 1: 5). */
  publishWindow: number;
  /** Longest payload one AT+QMTPUBEX accepts (EC200 §3.3.8 note 2: 1500). */
  maxPublishLength: number;
  /** Receive buffer slots for recv/mode 1 (EC200 §3.3.9: 5). */
  recvSlots: number;
  /** Longest topic. */
  maxTopicLength: number;
  /** Most topics in one AT+QMTSUB / AT+QMTUNS. */
  maxTopicsPerRequest: number;
  /** Data-mode idle timeout (ms) when edit/timeout is disabled. */
  dataIdleTimeoutMs: number;
}

export interface QmtContext {
  readonly device: Device;
  readonly data: QmtProfileData;
  readonly clients: readonly QmtClient[];
  /** The client for a validated index. */
  client(idx: number): QmtClient;
}
