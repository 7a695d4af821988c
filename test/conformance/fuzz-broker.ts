/**
 * One Aedes broker per profile, reached in memory (memoryLinkOpener), with the broker faults the
 * control API plays over TCP (src/control/network-faults.ts, controller.ts) redone for the
 * in-memory link: drop every device connection from the broker side, stall (nothing passes
 * either way; leaving the stall drops the connections, as a stalled TCP stream cannot resume),
 * broker down (connections drop, opens are refused) and up, CONNECT refused (CONNACK 5).
 * It also records the QoS 1/2 messages each tenant's devices accepted, for the delivered-message
 * invariant (harness.ts): the point is the device link's 'message' event, where the device's
 * MQTT client has taken the PUBLISH and acknowledges it (PUBACK; PUBREC for QoS 2) — before the
 * session core and the vendor adapter, so a message either of them loses counts. (Aedes's 'ack'
 * event would be the broker's view, but it carries no payload for clean sessions.)
 */
import type { Duplex } from 'node:stream';
import { Aedes, type AuthenticateError } from 'aedes';
import type { LinkOpener } from '../../src/mqtt/types.js';
import { LinkOpenError } from '../../src/mqtt/types.js';
import { duplexPair, memoryLinkOpener, type StreamBroker } from '../../src/mqtt/memory-link.js';

/** A message the device's MQTT client accepted, and whether that link has closed since. */
export interface DeviceAck {
  payload: string;
  qos: number;
  closed(): boolean;
}

interface Connection {
  device: Duplex;
  broker: Duplex;
}

/**
 * One case's view of the broker: its own links, faults and byte count, so cases can run side by
 * side on one Aedes without disturbing each other.
 */
export class BrokerTenant implements StreamBroker {
  down = false;
  stalled = false;
  refuseConnect = false;
  /** Bytes that crossed this tenant's links either way (the harness's "still moving" signal). */
  bytes = 0;
  /** Client ids this tenant's links signed in with. */
  readonly clientIds = new Set<string>();
  /** QoS 1/2 messages this tenant's device links accepted (a delivery of any case). */
  readonly acked: DeviceAck[] = [];
  readonly opener: LinkOpener;
  private readonly conns = new Set<Connection>();

  constructor(private readonly owner: FuzzBroker) {
    const memory = memoryLinkOpener(this, {
      refuse: () => (this.down ? new LinkOpenError('refused', 'broker down (fuzz)') : undefined),
    });
    this.opener = {
      resolve: memory.resolve,
      open: async (o) => {
        const link = await memory.open(o);
        let closed = false;
        link.once('close', () => (closed = true));
        link.on('message', (m) => {
          // The harness's own messages are short markers; longer ones are other traffic.
          if (m.qos > 0 && m.payload.length <= 64) this.acked.push({ payload: m.payload.toString('latin1'), qos: m.qos, closed: () => closed });
        });
        return link;
      },
    };
  }

  /** The broker side of a device link: a gate that counts and stalls, then Aedes. */
  handle(device: Duplex): void {
    const [outer, inner] = duplexPair();
    const conn: Connection = { device, broker: outer };
    this.conns.add(conn);
    device.on('data', (d: Buffer) => {
      this.bytes += d.length;
      if (!this.stalled && !outer.destroyed) outer.write(d);
    });
    outer.on('data', (d: Buffer) => {
      this.bytes += d.length;
      if (!this.stalled && !device.destroyed) device.write(d);
    });
    const close = (): void => {
      if (this.conns.delete(conn)) this.bytes++;
      if (!device.destroyed) device.destroy();
      if (!outer.destroyed) outer.destroy();
    };
    for (const s of [device, outer]) {
      s.on('end', close);
      s.on('close', close);
      s.on('error', close);
    }
    this.owner.attach(inner, this);
  }

  get connections(): number {
    return this.conns.size;
  }

  dropAll(): void {
    for (const c of [...this.conns]) {
      c.device.destroy();
      c.broker.destroy();
    }
  }

  stall(on: boolean): void {
    this.stalled = on;
    if (!on) this.dropAll();
  }

  setDown(on: boolean): void {
    this.down = on;
    if (on) this.dropAll();
  }

  /** The cloud publishes to the device (any device subscribed to `topic`). */
  deliver(topic: string, payload: Buffer, qos: 0 | 1 | 2): void {
    this.owner.aedes.publish({ cmd: 'publish', topic, payload, qos, retain: false, dup: false }, () => {});
  }

  private readonly watched = new Set<string>();

  /** Start recording what devices publish on `topic`. */
  watch(topic: string): void {
    this.watched.add(topic);
    this.owner.received.set(topic, []);
  }

  /** What devices published on a watched `topic`. */
  received(topic: string): Buffer[] {
    return this.owner.received.get(topic) ?? [];
  }

  /**
   * End of the case: drop its links, forget its messages, and end the persistent sessions its
   * client ids left on the broker (a clean-session-0 client that never returns would otherwise
   * have every later matching message queued for it: broker memory, growing with the cases).
   */
  async close(): Promise<void> {
    this.down = false;
    this.stalled = false;
    this.dropAll();
    for (const t of this.watched) this.owner.received.delete(t);
    this.watched.clear();
    await this.owner.forget(this.clientIds);
  }
}

export class FuzzBroker {
  /** What devices published on the topics tenants watch (payloads in arrival order). */
  readonly received = new Map<string, Buffer[]>();
  private readonly tenants = new WeakMap<Duplex, BrokerTenant>();

  private constructor(readonly aedes: Aedes) {
    aedes.authenticate = (client, _user, _pass, done) => {
      const conn = (client as unknown as { conn?: Duplex }).conn;
      const tenant = conn ? this.tenants.get(conn) : undefined;
      if (tenant && typeof client.id === 'string') tenant.clientIds.add(client.id);
      if (!tenant?.refuseConnect) return done(null, true);
      const err = new Error('not authorized (fuzz)') as AuthenticateError;
      err.returnCode = 5;
      done(err, false);
    };
    aedes.on('publish', (packet, client) => {
      if (!client) return; // broker-internal ($SYS, the cloud's own deliveries)
      this.received.get(packet.topic)?.push(Buffer.from(packet.payload));
    });
  }

  static async create(): Promise<FuzzBroker> {
    return new FuzzBroker(await Aedes.createBroker());
  }

  tenant(): BrokerTenant {
    return new BrokerTenant(this);
  }

  attach(stream: Duplex, tenant: BrokerTenant): void {
    this.tenants.set(stream, tenant);
    this.aedes.handle(stream);
  }

  /** End the stored sessions of these client ids, unless a device is connected with one now. */
  async forget(ids: Iterable<string>): Promise<void> {
    // Aedes's types leave out `clients` and `persistence` (aedes-persistence's async API).
    const broker = this.aedes as unknown as { clients: Record<string, unknown>; persistence: { cleanSubscriptions(c: { id: string }): Promise<void> } };
    for (const id of ids) {
      if (broker.clients[id]) continue;
      await broker.persistence.cleanSubscriptions({ id });
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.aedes.close(() => resolve()));
  }
}
