/**
 * Sends every MQTT link to the configured broker, whatever host the firmware named: firmware
 * keeps its production host names (`iot-as-mqtt.cn-shanghai.aliyuncs.com`) and still talks to
 * the embedded broker or the one given with --broker.
 */
import type { Logger } from 'pino';
import { openLink } from '../mqtt/link.js';
import { LinkOpenError, type MqttLink, type OpenOptions } from '../mqtt/types.js';
import type { LinkOpener } from './device.js';

export interface BrokerEndpoints {
  /** Plain MQTT. */
  plain: { host: string; port: number };
  /** MQTT over TLS, when a TLS broker is available. */
  tls?: { host: string; port: number; ca?: Buffer | string; rejectUnauthorized?: boolean };
}

export function brokerLinkOpener(endpoints: BrokerEndpoints, log: Logger): LinkOpener {
  return {
    resolve: (requested) => {
      if (requested.tls) {
        // No TLS listener configured: open() fails the way a failed handshake does.
        if (!endpoints.tls) return { host: requested.host, port: requested.port, tls: true };
        return { ...endpoints.tls, tls: true };
      }
      return { ...endpoints.plain, tls: false };
    },
    open: async (opts: OpenOptions): Promise<MqttLink> => {
      if (opts.target.tls && !endpoints.tls) {
        throw new LinkOpenError('tls', 'no TLS broker configured (pass --broker mqtts://host:port)');
      }
      return openLink({ ...opts, log });
    },
  };
}
