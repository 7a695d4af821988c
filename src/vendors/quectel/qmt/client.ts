/**
 * One QMT client (<client_idx>): its settings, its link to the broker, and the result codes and
 * URCs the EC200 manual documents for each outcome (§3.3.2–§3.3.9, §4).
 *
 * State (AT+QMTCONN? <state>, §3.3.4): idle → opening → open (1 "initializing") →
 * connecting (2) → connected (3) → disconnecting (4) → idle. The lifecycle itself (transport,
 * CONNECT, packet ids in flight, retransmission, loss) is the session core's (src/mqtt/session.ts);
 * this file maps its results and events to the manual's result codes and URCs.
 *
 * Other modules of the family (BC260Y) share this state machine; the few URC shapes and
 * timeouts that differ come from a {@link QmtDialect} (EC200's by default).
 */
import type { Logger } from 'pino';
import type { Device } from '../../../modem/device.js';
import type { MqttSession, ConnectResult, RequestResult, SessionLoss } from '../../../mqtt/session.js';
import type { IncomingMessage, RetryPolicy } from '../../../mqtt/types.js';
import type { QmtClientConfig } from './client-config.js';
import type { QmtProfileData } from './context.js';
import { EC200_DIALECT, type QmtDialect } from './dialect.js';
import { platformCredentials } from './platform-auth.js';
import { formatRecv, formatRecvNotice } from './recv-format.js';

export type QmtState = 'idle' | 'opening' | 'open' | 'connecting' | 'connected' | 'disconnecting';

/** +QMTSTAT <err_code> (§4.1, table 4). */
export const QMTSTAT = {
  closedByServer: 1,
  pingTimeout: 2,
  connectSendFailed: 3,
  connackFailed: 4,
  serverClosedAfterDisconnect: 5,
  sendFailed: 6,
  linkDown: 7,
  clientClosed: 8,
} as const;

/** +QMTOPEN <result> (§3.3.2). */
export const QMTOPEN = { failed: -1, ok: 0, badParam: 1, occupied: 2, pdpFailed: 3, dnsFailed: 4, networkDown: 5 } as const;

export interface StoredMessage {
  msgid: number;
  topic: string;
  payload: Buffer;
}

export class QmtClient {
  config: QmtClientConfig;
  /** Host and port as the firmware gave them (AT+QMTOPEN? reports them verbatim). */
  host = '';
  port = 0;
  readonly session: MqttSession;
  /** recv/mode 1 buffer: index = <recv_id>. */
  readonly slots: (StoredMessage | undefined)[];
  /** Messages waiting for a free slot (never dropped: the module stops reading instead). */
  private readonly backlog: StoredMessage[] = [];
  private readonly log: Logger;
  /** The state when the network went away (onLost runs inside networkLost()). */
  private lostWhile: QmtState | undefined;

  constructor(
    readonly idx: number,
    private readonly device: Device,
    data: QmtProfileData,
    private readonly dialect: QmtDialect = EC200_DIALECT,
  ) {
    this.config = dialect.defaults();
    this.slots = new Array<StoredMessage | undefined>(data.recvSlots).fill(undefined);
    this.log = device.log.child({ component: 'qmt', client: idx });
    // <msgid> is the firmware's (§3.3.6–§3.3.8): the core refuses one still in flight.
    // <msgid> 0 on SUBSCRIBE/UNSUBSCRIBE: see the profile notes; the module numbers that packet.
    this.session = device.mqttSession({ name: `qmt${idx}`, ids: { source: 'caller', zeroPicks: dialect.subscribeMsgIdZero } });
    this.session.on('message', (m) => this.deliver(m));
    this.session.on('lost', (loss) => this.onLost(loss));
  }

  get state(): QmtState {
    const s = this.session.state;
    return s === 'reconnecting' ? 'connecting' : s;
  }

  /** "MQTT 连接已创建": QMTCFG set forms are refused from CONNECT on (§3.3.1). */
  get mqttActive(): boolean {
    return this.state === 'connecting' || this.state === 'connected' || this.state === 'disconnecting';
  }

  /** <state> of AT+QMTCONN? (§3.3.4), or undefined when the network is not open. */
  get connState(): 1 | 2 | 3 | 4 | undefined {
    switch (this.state) {
      case 'open':
        return 1;
      case 'connecting':
        return 2;
      case 'connected':
        return 3;
      case 'disconnecting':
        return 4;
      default:
        return undefined;
    }
  }

  /** Whether <msgid> is still waiting for its acknowledgement (any request kind). */
  idInFlight(msgid: number): boolean {
    return this.session.inFlight(msgid);
  }

  /** QoS > 0 publishes waiting for their acknowledgement (the sliding window, §3.3.8 note 1). */
  get publishesInFlight(): number {
    return this.session.inflightIds('publish').length;
  }

  private urc(line: string | Buffer, delayName?: string): void {
    this.device.urc(line, delayName ? this.device.timing.delay(delayName) : 0);
  }

  private retryPolicy(notice: (count: number) => void): RetryPolicy {
    const t = this.config.timeout;
    return {
      timeoutMs: this.device.timing.mode === 'fast' ? Math.min(t.pktTimeout * 1000, 1000) : t.pktTimeout * 1000,
      retries: t.retryTimes,
      onRetransmit: (count) => {
        if (t.timeoutNotice) notice(count);
      },
    };
  }

  /** Run a step of the core and report what it resolves to; the core never rejects. */
  private follow<T>(p: Promise<T>, report: (r: T) => void): void {
    p.then(report).catch((err: unknown) => this.device.fault(err, `qmt${this.idx}`));
  }

  /** AT+QMTOPEN (§3.3.2): the caller has answered OK; the result follows as a URC. */
  open(host: string, port: number): void {
    if (this.state !== 'idle') {
      this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.occupied}`);
      return;
    }
    if (!this.device.network.dataReady) {
      // Radio off, or registered without an active context: no PDP context can be used (3);
      // radio on but not registered (searching, denied, SIM out): network error (5).
      const net = this.device.network;
      const noContext = net.cfun !== 1 || (net.registered && !net.pdpActive);
      this.urc(`+QMTOPEN: ${this.idx},${noContext ? QMTOPEN.pdpFailed : QMTOPEN.networkDown}`, 'open');
      return;
    }
    this.host = host;
    this.port = port;
    const timeoutMs = this.device.timing.limit('openTimeout', 75_000);
    this.follow(this.session.open({ host, port, tls: this.config.ssl.enabled }, timeoutMs), (r) => {
      switch (r.kind) {
        case 'opened':
          this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.ok}`, 'open');
          return;
        case 'failed': {
          const code = r.reason === 'dns' ? QMTOPEN.dnsFailed : r.reason === 'network-down' ? QMTOPEN.networkDown : QMTOPEN.failed;
          this.urc(`+QMTOPEN: ${this.idx},${code}`, 'open');
          return;
        }
        case 'busy':
          this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.occupied}`);
          return;
        case 'abandoned':
          // AT+QMTCLOSE or a reset overtook it (their own URCs say so), or the network went
          // down meanwhile (reported by onLost).
          return;
      }
    });
  }

  /** AT+QMTCLOSE (§3.3.3). */
  close(): void {
    // Closing an index that is still opening abandons the open and succeeds; an idle index
    // answers the dialect's result (EC200: 0, BC260Y: -1).
    const result = this.state === 'idle' ? this.dialect.closeIdleResult : 0;
    this.session.close();
    this.urc(`+QMTCLOSE: ${this.idx},${result}`, 'close');
  }

  /**
   * AT+QMTCONN (§3.3.4). Username/password default to the platform credentials of QMTCFG. A
   * password may be given as bytes: MQTT passwords are binary data [MQTT-3.1.3.5].
   */
  connect(clientId: string, username: string | undefined, password: string | Buffer | undefined): void {
    const cfg = this.config;
    let creds: { clientId: string; username?: string; password?: string | Buffer } = { clientId, username, password };
    if (username === undefined) {
      const derived = platformCredentials(cfg, clientId);
      if (derived) creds = derived;
    }
    const will = cfg.will.enabled ? cfg.will : cfg.willex.enabled ? cfg.willex : undefined;
    const tries = this.dialect.connectTimeout === 'pkt-timeout-times-tries' ? cfg.timeout.retryTimes + 1 : 1;
    const connecting = this.session.connect({
      clientId: creds.clientId,
      username: creds.username,
      password: creds.password,
      protocolVersion: cfg.version,
      keepalive: cfg.keepalive,
      clean: cfg.cleanSession,
      will: will && { topic: will.topic, payload: will.message, qos: will.qos, retain: will.retain },
      timeoutMs: cfg.timeout.pktTimeout * 1000 * tries,
    });
    this.follow(connecting, (r: ConnectResult) => {
      switch (r.kind) {
        case 'accepted':
          this.urc(`+QMTCONN: ${this.idx},0,0`, 'connack');
          return;
        case 'refused':
          // The CONNACK arrived (result 0) and carries the refusal (§3.3.4 <ret_code>); the
          // broker then closes the socket [MQTT-3.2.2-5], which ends the link (+QMTSTAT 1).
          this.urc(`+QMTCONN: ${this.idx},0,${r.returnCode}`, 'connack');
          return;
        case 'timeout':
          this.urc(`+QMTCONN: ${this.idx},2`, 'connack');
          this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.connackFailed}`);
          return;
        case 'error':
          this.urc(`+QMTCONN: ${this.idx},2`, 'connack');
          this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.connectSendFailed}`);
          return;
        case 'closed':
        case 'abandoned':
        case 'busy':
          // The socket went away before CONNACK (onLost reports it), or a close overtook it.
          return;
      }
    });
  }

  /** AT+QMTDISC (§3.3.5): DISCONNECT, then the network closes too. */
  disconnect(): void {
    if (this.state === 'idle' || this.state === 'opening') {
      this.urc(`+QMTDISC: ${this.idx},-1`, 'close');
      return;
    }
    this.follow(this.session.disconnect(), () => this.urc(`+QMTDISC: ${this.idx},0`, 'close'));
  }

  /** AT+QMTSUB (§3.3.6). */
  subscribe(msgid: number, topics: { topic: string; qos: 0 | 1 | 2 }[]): void {
    const retry = this.retryPolicy((n) => this.urc(`+QMTSUB: ${this.idx},${msgid},1,${n}`));
    this.follow(this.session.subscribe(topics, { id: msgid, retry }), (r) => {
      if (r.kind === 'ok') this.urc(`+QMTSUB: ${this.idx},${msgid},0,${r.value.join(',')}`, 'ack');
      else this.failRequest(`+QMTSUB: ${this.idx},${msgid},2`, r);
    });
  }

  /** AT+QMTUNS (§3.3.7). */
  unsubscribe(msgid: number, topics: string[]): void {
    const count = this.dialect.unsubscribeRetransmitCount;
    const retry = this.retryPolicy((n) => this.urc(`+QMTUNS: ${this.idx},${msgid},1${count ? `,${n}` : ''}`));
    this.follow(this.session.unsubscribe(topics, { id: msgid, retry }), (r) => {
      if (r.kind === 'ok') this.urc(`+QMTUNS: ${this.idx},${msgid},0`, 'ack');
      else this.failRequest(`+QMTUNS: ${this.idx},${msgid},2`, r);
    });
  }

  /** AT+QMTPUBEX (EC200) / AT+QMTPUB (BC260Y, and EC200's SDK form) after its payload (§3.3.8). */
  publish(msgid: number, qos: 0 | 1 | 2, retain: boolean, topic: string, payload: Buffer, name = this.dialect.publishUrc): void {
    const retry = this.retryPolicy((n) => this.urc(`${name}: ${this.idx},${msgid},1,${n}`));
    this.follow(this.session.publish(topic, payload, { id: msgid, qos, retain, retry }), (r) => {
      if (r.kind === 'ok') this.urc(`${name}: ${this.idx},${msgid},0`, 'ack');
      else this.failRequest(`${name}: ${this.idx},${msgid},2`, r);
    });
  }

  /**
   * <result> 2 "failed to send the packet" (§3.3.6–§3.3.8). After all retransmissions the module
   * gives up the link too (§4.1 code 6); a link that closed first is reported by its own +QMTSTAT.
   */
  private failRequest(line: string, r: Exclude<RequestResult<unknown>, { kind: 'ok' }>): void {
    if (r.kind === 'rejected') this.log.info({ reason: r.reason }, 'request refused by the session');
    this.urc(line);
    if (r.kind === 'timeout') this.drop(QMTSTAT.sendFailed);
  }

  /** Whether messages wait in the recv/mode 1 buffer (AT+QMTRECV? <store_status>). */
  storeStatus(): number[] {
    return this.slots.map((s) => (s ? 1 : 0));
  }

  /** AT+QMTRECV=<idx>[,<recv_id>]: lines for the stored messages, which are then freed. */
  takeStored(recvId?: number): Buffer[] {
    const ids = recvId === undefined ? this.slots.map((_, i) => i) : [recvId];
    const lines: Buffer[] = [];
    for (const id of ids) {
      const m = this.slots[id];
      if (!m) continue;
      lines.push(formatRecv(this.idx, m, this.config));
      this.slots[id] = undefined;
    }
    this.refillSlots();
    return lines;
  }

  private deliver(m: IncomingMessage): void {
    const stored: StoredMessage = { msgid: m.messageId, topic: m.topic, payload: m.payload };
    if (this.config.recv.mode === 0) {
      this.urc(formatRecv(this.idx, stored, this.config));
      return;
    }
    this.backlog.push(stored);
    this.refillSlots();
  }

  private refillSlots(): void {
    while (this.backlog.length > 0) {
      const free = this.slots.findIndex((s) => s === undefined);
      if (free < 0) return;
      const m = this.backlog.shift()!;
      this.slots[free] = m;
      this.urc(formatRecvNotice(this.idx, free, m, this.config));
    }
  }

  /** The link ended without the firmware asking: +QMTSTAT with the cause (§4.1 table 4). */
  private onLost(loss: SessionLoss): void {
    if (loss.reason === 'network-down') {
      // "link not working" (§4.1 code 7); an open still in progress fails as a network error.
      if (this.lostWhile === 'opening') {
        this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.networkDown}`, 'open');
        return;
      }
      this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.linkDown}`);
      return;
    }
    if (loss.phase === 'connecting') {
      this.urc(`+QMTCONN: ${this.idx},2`);
      this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.connackFailed}`);
      return;
    }
    if (loss.reason === 'ping-timeout') {
      if (this.dialect.pingUrc) this.urc(`+QMTPING: ${this.idx},1`);
      this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.pingTimeout}`);
      return;
    }
    this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.closedByServer}`);
  }

  /** The module ends the link itself and reports why (+QMTSTAT). */
  drop(code: number): void {
    if (this.state === 'idle') return;
    this.session.close();
    this.urc(`+QMTSTAT: ${this.idx},${code}`);
  }

  /** The data network went away (AT+CFUN=0, deregistration): see onLost. */
  networkLost(): void {
    this.lostWhile = this.state;
    try {
      this.session.networkLost();
    } finally {
      this.lostWhile = undefined;
    }
  }

  /** Power-on settings (ATZ / AT&F do not touch QMT settings on the real module; reboot does). */
  resetConfig(): void {
    this.config = this.dialect.defaults();
  }

  /** Reboot / dispose: the link is gone without any URC (the module is restarting). */
  destroy(): void {
    this.session.destroy();
    this.slots.fill(undefined);
    this.backlog.length = 0;
  }

  inspect(): Record<string, unknown> {
    return {
      idx: this.idx,
      state: this.state,
      host: this.host || undefined,
      port: this.port || undefined,
      inflight: this.session.inflightIds(),
      stored: this.storeStatus(),
      backlog: this.backlog.length,
      session: this.session.inspect(),
    };
  }
}
