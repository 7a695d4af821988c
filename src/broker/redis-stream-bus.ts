/**
 * The message bus between the nodes of a cluster (issue 12 §1): an mqemitter (the interface Aedes
 * routes every publish through) whose messages travel through one Redis stream instead of Redis
 * pub/sub.
 *
 * Why not mqemitter-redis (pub/sub): Redis pub/sub keeps nothing. A QoS 1 message that a node has
 * acknowledged (PUBACK sent once Redis took the PUBLISH) is lost to every other node whose
 * subscriber connection is down or not yet resubscribed at that instant — measured in
 * test/system/cluster: across a Redis restart under load, one acknowledged message in about one
 * run in three never reached the other node, and holding publishes for a while after the
 * reconnect only narrowed the window. A stream keeps the message: every node reads the stream
 * from the last entry it has seen, so after an outage (of Redis, or of its own connection) it
 * picks up exactly where it stopped. With `redis-server --appendonly yes` the stream also
 * survives a Redis restart; the PUBACK is sent only after Redis answered the XADD.
 *
 * Each node reads every entry and matches topics locally (the same qlobber matcher Aedes uses
 * alone), so the cost per node grows with the cluster's total traffic, not with its own
 * subscriptions; the stream is trimmed to about `maxLen` entries (a node away for longer than
 * that much traffic misses the oldest of it).
 *
 * Entries: `XADD vmodem:bus MAXLEN ~ <maxLen> * m <msgpack(packet)>`, the same msgpack encoding
 * aedes-persistence-redis uses for the packets it stores. Entries this node cannot decode are
 * skipped with a log line.
 */
import mqemitter from 'mqemitter';
import msgpack from 'msgpack-lite';
import type { Redis } from 'ioredis';
import type { Logger } from '../util/logger.js';

/** The stream every node of a cluster writes to and reads from. */
export const BUS_KEY = 'vmodem:bus';
/** About this many entries are kept (XADD … MAXLEN ~). */
export const BUS_MAX_LEN = 100_000;
/** Entries read per XREAD. */
const READ_COUNT = 1000;
/** How long one XREAD blocks before it is issued again (ms). */
const READ_BLOCK_MS = 5000;

type Message = mqemitter.Message;
type Listener = (message: Message, done: () => void) => void;

export interface RedisStreamBusOptions {
  /** The connection XADD goes through (commands queue while Redis is away). */
  pubConn: Redis;
  /** A connection of its own for the blocking XREAD. */
  readConn: Redis;
  log: Logger;
  key?: string;
  maxLen?: number;
}

/** Start reading after the stream's position "now" (Redis' clock), then behave as an mqemitter. */
export async function openRedisStreamBus(opts: RedisStreamBusOptions): Promise<RedisStreamBus> {
  const [seconds, micros] = await opts.readConn.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  // XREAD returns entries after the id it is given. An entry added in this same millisecond gets
  // `<nowMs>-0` or later, so start just before it: the last possible id of the millisecond before
  // (starting at `<nowMs>-0` itself lost the first message of a bus that wrote within 1 ms).
  const bus = new RedisStreamBus(opts, `${nowMs - 1}-18446744073709551615`);
  bus.startReading();
  return bus;
}

export class RedisStreamBus implements mqemitter.MQEmitter {
  concurrent = 0;
  /** Aedes reads it for $SYS stats. */
  get current(): number {
    return this.local.current;
  }
  closed = false;
  /** Entries read and handed to local listeners. */
  delivered = 0;
  private readonly local = mqemitter({ matchEmptyLevels: true });
  private readonly key: string;
  private readonly maxLen: string;

  constructor(
    private readonly opts: RedisStreamBusOptions,
    /** The last stream id this node has read (exclusive start of the next XREAD). */
    private lastId: string,
  ) {
    this.key = opts.key ?? BUS_KEY;
    this.maxLen = String(opts.maxLen ?? BUS_MAX_LEN);
  }

  on(topic: string, listener: Listener, done?: () => void): this {
    this.local.on(topic, listener, done);
    return this;
  }

  removeListener(topic: string, listener: Listener, done?: () => void): void {
    this.local.removeListener(topic, listener, done);
  }

  /** Aedes calls this for every publish; `done` (→ PUBACK for QoS 1) runs once Redis has the entry. */
  emit(message: Message, done?: (error?: Error) => void): void {
    const cb = done ?? ((err?: Error) => err && this.opts.log.debug({ err: err.message }, 'cluster: bus write failed'));
    if (this.closed) {
      cb(new Error('the cluster bus is closed'));
      return;
    }
    let data: Buffer;
    try {
      data = msgpack.encode(message);
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.opts.pubConn.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'm', data).then(
      () => cb(),
      (err: unknown) => cb(err as Error),
    );
  }

  close(callback: () => void): void {
    this.closed = true;
    this.local.close(callback);
  }

  /** The read loop: XREAD from `lastId`, hand each entry to the local listeners, repeat. */
  startReading(): void {
    void this.readLoop().catch((err: unknown) => this.opts.log.error({ err: String(err) }, 'cluster: bus reader stopped'));
  }

  private async readLoop(): Promise<void> {
    const { readConn, log } = this.opts;
    const stopped = (): boolean => this.closed || readConn.status === 'end';
    while (!stopped()) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        // A command in flight when the connection drops is sent again after the reconnect
        // (ioredis' autoResendUnfulfilledCommands) with the same start id, so nothing is skipped.
        reply = (await readConn.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.key, this.lastId)) as typeof reply;
      } catch (err) {
        if (stopped()) return;
        log.debug({ err: String(err) }, 'cluster: bus read failed; reading again');
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          this.lastId = id.toString();
          this.deliver(id, fields);
        }
      }
    }
  }

  private deliver(id: Buffer, fields: Buffer[]): void {
    const i = fields.findIndex((f, n) => n % 2 === 0 && f.toString() === 'm');
    const raw = i >= 0 ? fields[i + 1] : undefined;
    let message: Message;
    try {
      if (!raw) throw new Error('no "m" field');
      message = msgpack.decode(raw) as Message;
      if (typeof message?.topic !== 'string') throw new Error('no topic');
    } catch (err) {
      this.opts.log.warn({ id: id.toString(), err: String(err) }, 'cluster: skipped an unreadable bus entry');
      return;
    }
    this.delivered++;
    this.local.emit(message);
  }
}
