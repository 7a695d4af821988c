/**
 * A modem on the in-memory link to a fresh embedded broker, on a TestClock, with the profile's
 * real timings: retransmission and reconnection waits run as the manuals give them, in virtual
 * time (no test waits on the wall clock for them).
 */
import type { Packet } from 'mqtt-packet';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { LinkOpenError, type LinkOpener } from '../../src/mqtt/types.js';
import { TestClock } from '../../src/util/clock.js';
import { filteringBroker, type FilteringBroker } from './filtering-broker.js';
import { createMemoryModem, type MemoryModem } from './memory-modem.js';

export interface VirtualModem {
  m: MemoryModem;
  broker: EmbeddedBroker;
  /** What the modem sent to the broker (dropped packets included). */
  f: FilteringBroker;
  clock: TestClock;
  /** Drop every connection the broker holds (it stays reachable). */
  dropClients(): void;
  /** Make the broker unreachable (opens refused) and drop every connection it holds. */
  goAway(): void;
  stop(): Promise<void>;
}

/** `drop`: packets from the modem that never reach the broker (lost on the way). */
export async function virtualModem(profileId: string, drop?: (p: Packet) => boolean): Promise<VirtualModem> {
  const broker = await startEmbeddedBroker({ port: 0 });
  const f = filteringBroker(broker.aedes, drop);
  const clock = new TestClock();
  let gone = false;
  const wrapLinks = (links: LinkOpener): LinkOpener => ({
    resolve: links.resolve,
    open: (o) => (gone ? Promise.reject(new LinkOpenError('refused', 'broker gone')) : links.open(o)),
  });
  const m = createMemoryModem(profileId, { broker: f, clock, timing: 'real', wrapLinks });
  const dropClients = (): void => {
    const clients = (broker.aedes as unknown as { clients: Record<string, { close(): void }> }).clients;
    for (const c of Object.values(clients)) c.close();
  };
  return {
    m,
    broker,
    f,
    clock,
    dropClients,
    goAway: () => {
      gone = true;
      dropClients();
    },
    stop: async () => {
      await m.stop();
      await broker.close();
    },
  };
}
