/**
 * A broker seen through a packet filter, for the in-memory broker link: every packet a client
 * sends is decoded, recorded, and passed on to the real broker (Aedes) unless the test drops it.
 * Lost SUBSCRIBEs and PUBLISHes (the retransmission cases) without leaving the real broker.
 */
import type { Duplex } from 'node:stream';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import { duplexPair, type StreamBroker } from '../../src/mqtt/memory-link.js';

export interface FilteringBroker extends StreamBroker {
  /** Every packet the clients sent, in order, dropped ones included. */
  readonly received: Packet[];
}

export function filteringBroker(broker: StreamBroker, drop: (packet: Packet) => boolean = () => false): FilteringBroker {
  const received: Packet[] = [];
  return {
    received,
    handle(client: Duplex) {
      const [near, far] = duplexPair();
      broker.handle(far);
      const parser = mqttParser({ protocolVersion: 4 });
      parser.on('packet', (packet: Packet) => {
        received.push(packet);
        if (!drop(packet) && !near.destroyed) near.write(generate(packet));
      });
      parser.on('error', () => client.destroy());
      client.on('data', (buf: Buffer) => parser.parse(buf));
      near.on('data', (buf: Buffer) => {
        if (!client.destroyed) client.write(buf);
      });
      client.on('error', () => {});
      near.on('error', () => {});
      client.once('close', () => near.destroy());
      near.once('close', () => client.destroy());
    },
  };
}
