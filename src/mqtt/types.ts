/**
 * The vendor-neutral MQTT session contract. Vendor command sets (AT+QMTOPEN, AT+MQTTCONN, …)
 * drive an MqttLink; they translate its neutral outcomes into their own result codes and URCs.
 *
 * Two steps, as on the modules: `openLink()` opens the transport (TCP or TLS), `link.connect()`
 * sends CONNECT over it. mqtt.js never reconnects on its own: after a drop only `close` fires and
 * the vendor logic decides what the firmware sees.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../util/clock.js';

/** Where the firmware asked to connect (reported back as given) and where we really go. */
export interface BrokerTarget {
  host: string;
  port: number;
  /** Connect to this Unix socket instead of host:port (vmodem's own fault proxy). */
  path?: string;
  tls: boolean;
  /** Extra TLS options (CA, client cert) when tls is true. */
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
}

/** Maps the host/port the firmware named to the broker vmodem is configured to use. */
export type BrokerResolver = (requested: { host: string; port: number; tls: boolean }) => BrokerTarget;

/** Why opening the transport failed. */
export type OpenFailure = 'refused' | 'dns' | 'timeout' | 'tls' | 'network-down' | 'error';

export class LinkOpenError extends Error {
  constructor(
    readonly reason: OpenFailure,
    message: string,
  ) {
    super(message);
    this.name = 'LinkOpenError';
  }
}

export interface WillMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
}

export interface ConnectOptions {
  clientId: string;
  username?: string;
  password?: Buffer | string;
  /** 3 = MQTT 3.1 (protocol name MQIsdp), 4 = MQTT 3.1.1. */
  protocolVersion: 3 | 4;
  /** Seconds; 0 disables PINGREQ. */
  keepalive: number;
  /**
   * Send PINGREQ every this many seconds of silence instead of every <keepalive> (the CONNECT
   * still announces <keepalive>); a missing PINGRESP is detected after 1.5 × this.
   */
  pingIntervalSec?: number;
  clean: boolean;
  will?: WillMessage;
  /** How long to wait for CONNACK. */
  timeoutMs: number;
}

export type ConnectOutcome =
  | { kind: 'accepted'; sessionPresent: boolean }
  /** CONNACK with a non-zero return code (1–5). */
  | { kind: 'refused'; returnCode: number }
  /** No CONNACK in time. */
  | { kind: 'timeout' }
  /** The transport closed or failed before CONNACK. */
  | { kind: 'closed' };

/** Per-request retry policy, as the modules' `timeout` settings define it. */
export interface RetryPolicy {
  /** Wait this long for the acknowledgement before retransmitting. */
  timeoutMs: number;
  /** Retransmit at most this many times (DUP flag set), then give up. */
  retries: number;
  /** Called before each retransmission with its 1-based count. */
  onRetransmit?: (count: number) => void;
}

export type AckOutcome<T = void> =
  | { kind: 'ok'; value: T }
  /** All retransmissions were used without an acknowledgement. */
  | { kind: 'timeout' }
  /** The link closed before the acknowledgement. */
  | { kind: 'closed' };

export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0. */
  messageId: number;
}

/** Why an established link ended. */
export type CloseReason =
  /** The broker closed or reset the TCP connection. */
  | 'remote-closed'
  /** No PINGRESP within the keepalive allowance. */
  | 'ping-timeout'
  /** We sent DISCONNECT and the socket then closed. */
  | 'disconnected'
  /** We closed the socket ourselves (AT+QMTCLOSE, network loss simulated by the modem). */
  | 'local'
  /** A socket error (ECONNRESET, EPIPE, …). */
  | 'error';

export interface MqttLinkEvents {
  message: [msg: IncomingMessage];
  /** Fired once, when the transport is gone for whatever reason. */
  close: [reason: CloseReason];
  /** A PINGRESP arrived (for modules that report pings). */
  pingresp: [];
}

export type LinkState = 'open' | 'connecting' | 'connected' | 'disconnecting' | 'closed';

export interface MqttLink extends EventEmitter<MqttLinkEvents> {
  readonly state: LinkState;
  /** Send CONNECT and wait for CONNACK. Only valid in state 'open'. */
  connect(opts: ConnectOptions): Promise<ConnectOutcome>;
  /** SUBSCRIBE with the caller's packet id; value = granted QoS per topic (0x80 = refused). */
  subscribe(
    messageId: number,
    topics: { topic: string; qos: 0 | 1 | 2 }[],
    retry: RetryPolicy,
  ): Promise<AckOutcome<number[]>>;
  /** UNSUBSCRIBE with the caller's packet id. */
  unsubscribe(messageId: number, topics: string[], retry: RetryPolicy): Promise<AckOutcome>;
  /**
   * PUBLISH with the caller's packet id (ignored for QoS 0). Resolves when the flow completes:
   * QoS 0 once written, QoS 1 on PUBACK, QoS 2 on PUBCOMP.
   */
  publish(
    messageId: number,
    topic: string,
    payload: Buffer,
    opts: { qos: 0 | 1 | 2; retain: boolean },
    retry: RetryPolicy,
  ): Promise<AckOutcome>;
  /** Packet ids of our QoS>0 publishes still waiting for their acknowledgement. */
  inflightIds(): number[];
  /** Send DISCONNECT, then close the socket. Resolves when closed. */
  disconnect(): Promise<void>;
  /** Close the socket without DISCONNECT (wills fire on the broker). Idempotent. */
  destroy(): void;
}

export interface OpenOptions {
  target: BrokerTarget;
  /** Connect timeout for TCP/TLS. */
  timeoutMs: number;
  /** The clock the link's timers (open, CONNACK, acknowledgements) run on. Default: real time. */
  clock?: Clock;
}

/** Opens MQTT links for a modem: TCP/TLS to a broker, through a fault proxy, or in memory. */
export interface LinkOpener {
  /** Where a firmware-named host really goes. */
  resolve: BrokerResolver;
  open(opts: OpenOptions): Promise<MqttLink>;
}
