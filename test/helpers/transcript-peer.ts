/** Wires a memory modem and an embedded broker together as a transcript peer. */
import type { EmbeddedBroker, BrokerPublish } from '../../src/broker/embedded-broker.js';
import type { TranscriptPeer } from '../../src/transcript/run-transcript.js';
import type { MemoryModem } from './memory-modem.js';

export function transcriptPeer(m: MemoryModem, broker: EmbeddedBroker): TranscriptPeer {
  const seen: BrokerPublish[] = [];
  broker.onPublish((p) => seen.push(p));
  return {
    host: m.port.host,
    publish: (topic, payload, qos, retain) =>
      new Promise<void>((resolve, reject) =>
        broker.aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId: 0 } as never, (err?: Error) =>
          err ? reject(err) : resolve(),
        ),
      ),
    waitForPublish: (topic, payload, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const match = (p: BrokerPublish) => p.topic === topic && p.payload.equals(payload);
        if (seen.some(match)) return resolve();
        const off = broker.onPublish((p) => {
          if (!match(p)) return;
          off();
          clearTimeout(t);
          resolve();
        });
        const t = setTimeout(() => {
          off();
          reject(new Error(`device did not publish ${topic} ${JSON.stringify(payload.toString())}`));
        }, timeoutMs);
      }),
  };
}
