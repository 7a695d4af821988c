/**
 * One QMT client (<client_idx>): its settings, its link to the broker, and the result codes and
 * URCs the EC200 manual documents for each outcome (§3.3.2–§3.3.9, §4).
 *
 * State (AT+QMTCONN? <state>, §3.3.4): idle → opening → open (1 "initializing") →
 * connecting (2) → connected (3) → disconnecting (4) → idle.
 *
 * Other modules of the family (BC260Y) share this state machine; the few URC shapes and
 * timeouts that differ come from a {@link QmtDialect} (EC200's by default).
 */
import type { Logger } from 'pino';
import type { Device } from '../../../modem/device.js';
import { LinkOpenError, type CloseReason, type IncomingMessage, type MqttLink, type RetryPolicy } from '../../../mqtt/types.js';
import type { QmtClientConfig } from './client-config.js';
import type { QmtProfileData } from './context.js';
import { EC200_DIALECT, type QmtDialect } from './dialect.js';
import { platformCredentials } from './platform-auth.js';
import { formatRecv, formatRecvNotice } from './recv-format.js';

export type QmtState = 'idle' | 'opening' | 'open' | 'connecting' | 'connected' | 'disconnecting' | 'closing';

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
  state: QmtState = 'idle';
  /** Host and port as the firmware gave them (AT+QMTOPEN? reports them verbatim). */
  host = '';
  port = 0;
  private link?: MqttLink;
  /** msgids of QoS > 0 publishes (AT+QMTPUBEX / AT+QMTPUB) awaiting their acknowledgement. */
  readonly inflight = new Set<number>();
  /** recv/mode 1 buffer: index = <recv_id>. */
  readonly slots: (StoredMessage | undefined)[];
  /** Messages waiting for a free slot (never dropped: the module stops reading instead). */
  private readonly backlog: StoredMessage[] = [];
  private readonly log: Logger;

  constructor(
    readonly idx: number,
    private readonly device: Device,
    data: QmtProfileData,
    private readonly dialect: QmtDialect = EC200_DIALECT,
  ) {
    this.config = dialect.defaults();
    this.slots = new Array<StoredMessage | undefined>(data.recvSlots).fill(undefined);
    this.log = device.log.child({ component: 'qmt', client: idx });
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

  private setState(next: QmtState): void {
    if (next === this.state) return;
    this.log.debug({ from: this.state, to: next }, 'state');
    this.state = next;
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

  /** AT+QMTOPEN (§3.3.2): the caller has answered OK; the result follows as a URC. */
  open(host: string, port: number): void {
    if (this.state !== 'idle') {
      this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.occupied}`);
      return;
    }
    if (!this.device.network.dataReady) {
      this.urc(`+QMTOPEN: ${this.idx},${this.device.network.cfun === 1 ? QMTOPEN.networkDown : QMTOPEN.pdpFailed}`, 'open');
      return;
    }
    this.host = host;
    this.port = port;
    this.setState('opening');
    const links = this.device.links;
    const target = links.resolve({ host, port, tls: this.config.ssl.enabled });
    const started = performance.now();
    links
      .open({ target, timeoutMs: this.device.timing.limit('openTimeout', 75_000) })
      .then((link) => {
        if (this.state !== 'opening') {
          link.destroy();
          return;
        }
        this.link = link;
        link.on('message', (m) => this.onMessage(m));
        link.once('close', (reason) => this.onLinkClose(link, reason));
        this.setState('open');
        this.log.info({ host, port, target: `${target.host}:${target.port}`, ms: Math.round(performance.now() - started) }, 'network opened');
        this.urc(`+QMTOPEN: ${this.idx},${QMTOPEN.ok}`, 'open');
      })
      .catch((err: unknown) => {
        if (this.state !== 'opening') return;
        this.setState('idle');
        const reason = err instanceof LinkOpenError ? err.reason : 'error';
        this.log.info({ host, port, reason, err: (err as Error).message }, 'network open failed');
        const code = reason === 'dns' ? QMTOPEN.dnsFailed : reason === 'network-down' ? QMTOPEN.networkDown : QMTOPEN.failed;
        this.urc(`+QMTOPEN: ${this.idx},${code}`, 'open');
      });
  }

  /** AT+QMTCLOSE (§3.3.3). */
  close(): void {
    const link = this.link;
    if (!link) {
      // Closing an index that is still opening abandons the open and succeeds; an idle index
      // answers the dialect's result (EC200: 0, BC260Y: -1).
      const result = this.state === 'idle' ? this.dialect.closeIdleResult : 0;
      this.setState('idle');
      this.urc(`+QMTCLOSE: ${this.idx},${result}`, 'close');
      return;
    }
    this.setState('closing');
    this.detach();
    link.destroy();
    this.urc(`+QMTCLOSE: ${this.idx},0`, 'close');
  }

  /**
   * AT+QMTCONN (§3.3.4). Username/password default to the platform credentials of QMTCFG. A
   * password may be given as bytes: MQTT passwords are binary data [MQTT-3.1.3.5].
   */
  connect(clientId: string, username: string | undefined, password: string | Buffer | undefined): void {
    const link = this.link;
    if (!link) return;
    const cfg = this.config;
    let creds: { clientId: string; username?: string; password?: string | Buffer } = { clientId, username, password };
    if (username === undefined) {
      const derived = platformCredentials(cfg, clientId);
      if (derived) creds = derived;
    }
    const will = cfg.will.enabled ? cfg.will : cfg.willex.enabled ? cfg.willex : undefined;
    const tries = this.dialect.connectTimeout === 'pkt-timeout-times-tries' ? cfg.timeout.retryTimes + 1 : 1;
    this.setState('connecting');
    link
      .connect({
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        protocolVersion: cfg.version,
        keepalive: cfg.keepalive,
        clean: cfg.cleanSession,
        will: will && { topic: will.topic, payload: will.message, qos: will.qos, retain: will.retain },
        timeoutMs: cfg.timeout.pktTimeout * 1000 * tries,
      })
      .then((outcome) => {
        if (this.link !== link) return;
        switch (outcome.kind) {
          case 'accepted':
            this.setState('connected');
            this.urc(`+QMTCONN: ${this.idx},0,0`, 'connack');
            return;
          case 'refused':
            // The CONNACK arrived (result 0) and carries the refusal (§3.3.4 <ret_code>); the
            // broker then closes the socket [MQTT-3.2.2-5], which ends the link below.
            this.setState('open');
            this.urc(`+QMTCONN: ${this.idx},0,${outcome.returnCode}`, 'connack');
            return;
          case 'timeout':
            this.urc(`+QMTCONN: ${this.idx},2`, 'connack');
            this.drop(QMTSTAT.connackFailed);
            return;
          case 'closed':
            // The socket went away before CONNACK: the close handler reports it.
            return;
        }
      })
      .catch((err: unknown) => {
        this.log.warn({ err }, 'connect failed');
        this.urc(`+QMTCONN: ${this.idx},2`, 'connack');
        this.drop(QMTSTAT.connectSendFailed);
      });
  }

  /** AT+QMTDISC (§3.3.5): DISCONNECT, then the network closes too. */
  disconnect(): void {
    const link = this.link;
    if (!link) {
      this.urc(`+QMTDISC: ${this.idx},-1`, 'close');
      return;
    }
    this.setState('disconnecting');
    this.detach();
    link
      .disconnect()
      .catch((err: unknown) => this.log.warn({ err }, 'disconnect failed'))
      .finally(() => this.urc(`+QMTDISC: ${this.idx},0`, 'close'));
  }

  /** AT+QMTSUB (§3.3.6). */
  subscribe(msgid: number, topics: { topic: string; qos: 0 | 1 | 2 }[]): void {
    const link = this.link!;
    link
      .subscribe(msgid, topics, this.retryPolicy((n) => this.urc(`+QMTSUB: ${this.idx},${msgid},1,${n}`)))
      .then((r) => {
        if (r.kind === 'ok') this.urc(`+QMTSUB: ${this.idx},${msgid},0,${r.value.join(',')}`, 'ack');
        else this.failRequest(`+QMTSUB: ${this.idx},${msgid},2`, r.kind);
      });
  }

  /** AT+QMTUNS (§3.3.7). */
  unsubscribe(msgid: number, topics: string[]): void {
    const link = this.link!;
    link
      .unsubscribe(
        msgid,
        topics,
        this.retryPolicy((n) => this.urc(`+QMTUNS: ${this.idx},${msgid},1${this.dialect.unsubscribeRetransmitCount ? `,${n}` : ''}`)),
      )
      .then((r) => {
        if (r.kind === 'ok') this.urc(`+QMTUNS: ${this.idx},${msgid},0`, 'ack');
        else this.failRequest(`+QMTUNS: ${this.idx},${msgid},2`, r.kind);
      });
  }

  /** AT+QMTPUBEX (EC200) / AT+QMTPUB (BC260Y) after its payload (§3.3.8). */
  publish(msgid: number, qos: 0 | 1 | 2, retain: boolean, topic: string, payload: Buffer): void {
    const link = this.link!;
    const name = this.dialect.publishUrc;
    if (qos > 0) this.inflight.add(msgid);
    link
      .publish(msgid, topic, payload, { qos, retain }, this.retryPolicy((n) => this.urc(`${name}: ${this.idx},${msgid},1,${n}`)))
      .then(
        (r) => {
          this.inflight.delete(msgid);
          if (r.kind === 'ok') this.urc(`${name}: ${this.idx},${msgid},0`, 'ack');
          else this.failRequest(`${name}: ${this.idx},${msgid},2`, r.kind);
        },
        (err: unknown) => {
          this.inflight.delete(msgid);
          this.log.warn({ err }, 'publish failed');
          this.urc(`${name}: ${this.idx},${msgid},2`);
        },
      );
  }

  /** All retransmissions used: report the failure; the module then gives up the link (§4.1 code 6). */
  private failRequest(line: string, kind: 'timeout' | 'closed'): void {
    this.urc(line);
    if (kind === 'timeout') this.drop(QMTSTAT.sendFailed);
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

  private onMessage(m: IncomingMessage): void {
    // A PUBLISH that arrives in the same TCP read as the SUBACK before it (a retained message)
    // is parsed before the SUBACK's result is handled; the module reports +QMTSUB first, so the
    // message waits one turn of the event loop.
    setImmediate(() => this.deliver(m));
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

  private onLinkClose(link: MqttLink, reason: CloseReason): void {
    if (this.link !== link) return;
    const wasConnecting = this.state === 'connecting';
    this.detach();
    this.log.info({ reason }, 'link closed');
    if (wasConnecting) {
      this.urc(`+QMTCONN: ${this.idx},2`);
      this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.connackFailed}`);
      return;
    }
    if (reason === 'ping-timeout') {
      if (this.dialect.pingUrc) this.urc(`+QMTPING: ${this.idx},1`);
      this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.pingTimeout}`);
      return;
    }
    this.urc(`+QMTSTAT: ${this.idx},${QMTSTAT.closedByServer}`);
  }

  /** The module ends the link itself and reports why (+QMTSTAT). */
  drop(code: number): void {
    const link = this.link;
    if (!link) return;
    this.detach();
    link.destroy();
    this.urc(`+QMTSTAT: ${this.idx},${code}`);
  }

  /** Forget the link (its close event no longer reports anything) and go idle. */
  private detach(): void {
    this.link = undefined;
    this.inflight.clear();
    this.setState('idle');
  }

  /** Power-on settings (ATZ / AT&F do not touch QMT settings on the real module; reboot does). */
  resetConfig(): void {
    this.config = this.dialect.defaults();
  }

  /** Reboot / dispose: the link is gone without any URC (the module is restarting). */
  destroy(): void {
    const link = this.link;
    this.detach();
    link?.destroy();
    this.slots.fill(undefined);
    this.backlog.length = 0;
  }

  inspect(): Record<string, unknown> {
    return {
      idx: this.idx,
      state: this.state,
      host: this.host || undefined,
      port: this.port || undefined,
      inflight: [...this.inflight],
      stored: this.storeStatus(),
      backlog: this.backlog.length,
    };
  }
}
