/** Wires a memory modem and an embedded broker together as a transcript peer. */
import type { BrokerPublish, EmbeddedBroker } from '../broker/embedded-broker.js';
import type { TranscriptPeer } from '../transcript/run-transcript.js';
import { formatPayload, formatTopic } from '../transcript/transcript.js';
import type { MemoryModem } from './memory-modem.js';

export interface RecordingTranscriptPeer extends TranscriptPeer {
  /** Every publish the device (any broker client) has made since the peer was created. */
  readonly published: readonly BrokerPublish[];
  /** Publishes no expect-publish has matched yet. */
  unmatched(): BrokerPublish[];
  /** Stop listening to the broker. */
  dispose(): void;
}

export function transcriptPeer(m: MemoryModem, broker: EmbeddedBroker): RecordingTranscriptPeer {
  const seen: BrokerPublish[] = [];
  /** Publishes already matched by an expect-publish: each is matched once. */
  const used = new Set<BrokerPublish>();
  const offSeen = broker.onPublish((p) => seen.push(p));
  const describe = (p: BrokerPublish) => `${formatTopic(p.topic)} ${formatPayload(p.payload)}`;
  return {
    host: m.port.host,
    published: seen,
    unmatched: () => seen.filter((p) => !used.has(p)),
    dispose: offSeen,
    publish: (topic, payload, qos, retain) =>
      new Promise<void>((resolve, reject) =>
        broker.aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false, messageId: 0 } as never, (err?: Error) =>
          err ? reject(err) : resolve(),
        ),
      ),
    waitForPublish: (topic, payload, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const match = (p: BrokerPublish) => !used.has(p) && p.topic === topic && p.payload.equals(payload);
        const found = seen.find(match);
        if (found) {
          used.add(found);
          return resolve();
        }
        const off = broker.onPublish((p) => {
          if (!match(p)) return;
          used.add(p);
          off();
          clearTimeout(t);
          resolve();
        });
        const t = setTimeout(() => {
          off();
          const others = seen.filter((p) => !used.has(p));
          reject(
            new Error(
              `the device did not publish it within ${timeoutMs} ms` +
                (others.length > 0 ? `; it published: ${others.map(describe).join(', ')}` : '; it published nothing else'),
            ),
          );
        }, timeoutMs);
      }),
  };
}
