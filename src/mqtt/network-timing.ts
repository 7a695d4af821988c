/**
 * How long the network takes, as a module on its radio sees it. A result that depends on the
 * network (+QMTOPEN, +QMTCONN, +QMTSUB, a QoS 1 +QMTPUBEX…) is never reported sooner than the
 * exchanges it needs would take on the real radio, even when the broker is on this machine and
 * answers in microseconds:
 *
 *   open    = processing + DNS (one round trip, only for a host name) + TCP handshake (one round
 *             trip) + TLS handshake (two round trips, only with SSL)
 *   request = processing + one round trip per request/acknowledgement pair (QoS 2: two)
 *
 * Firmware depends on this: drivers read "everything available" after a command, stop at OK and
 * discard the rest, then wait for the URC — which on the module comes a network exchange later
 * (FACTS: "OK first, result later"; EC800M: TCP open to an IP reported 125 ms after its OK; BC26
 * NB-IoT: +QMTOPEN 1.32 s, +QMTCONN 0.77 s, QoS 1 +QMTPUB 0.86 s after OK).
 *
 * The figures come from the profile (`networkTiming`). The `latency` network fault adds to every
 * round trip, the TCP and TLS handshakes included. "fast" timing turns the model off.
 */
import net from 'node:net';

export interface NetworkTimingData {
  /** What the figures model, for people reading the profile ("LTE Cat-1", "NB-IoT", "Wi-Fi"). */
  link: string;
  /** One round trip from the module to an internet server and back, radio included (ms). */
  rttMs: number;
  /** The module's own work before it reports a network result (ms). */
  processingMs: number;
}

export class NetworkTiming {
  /** Added to every round trip by the `latency` fault (control API, scenarios). */
  extraLatencyMs = 0;

  constructor(
    private readonly data: NetworkTimingData | undefined,
    private readonly enabled: boolean,
  ) {}

  private rtt(): number {
    return (this.data?.rttMs ?? 0) + this.extraLatencyMs;
  }

  private get processing(): number {
    return this.data?.processingMs ?? 0;
  }

  /** Opening a transport to `host` (a name costs a DNS lookup; TLS two more round trips). */
  openMs(target: { host: string; tls: boolean }): number {
    if (!this.enabled) return 0;
    const trips = (net.isIP(target.host) ? 0 : 1) + 1 + (target.tls ? 2 : 0);
    return this.processing + trips * this.rtt();
  }

  /** A failed open: the round trips until the failure is known (a refusal is one RST away). */
  openFailedMs(reason: string, target: { host: string }): number {
    if (!this.enabled || reason === 'timeout') return 0;
    const dns = net.isIP(target.host) ? 0 : 1;
    const trips = reason === 'dns' ? 1 : reason === 'network-down' ? 0 : dns + 1;
    return this.processing + trips * this.rtt();
  }

  /** `exchanges` request/acknowledgement pairs (CONNECT, SUBSCRIBE, PUBLISH QoS 1: 1; QoS 2: 2). */
  exchangeMs(exchanges: number): number {
    if (!this.enabled) return 0;
    return this.processing + exchanges * this.rtt();
  }

  /** Writing a packet that has no acknowledgement (QoS 0 PUBLISH, DISCONNECT). */
  sendMs(): number {
    return this.enabled ? this.processing : 0;
  }
}
