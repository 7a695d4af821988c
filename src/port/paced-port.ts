/**
 * Paces the modem's output at a UART's speed: bytes leave at 10 bits per byte (8N1: start, 8
 * data, stop) per baud, so a firmware sees the timing of a real 115200-baud link. Without a
 * baud rate, writes pass straight through. Input is never paced (the host's writes are its own).
 */
import { EventEmitter } from 'node:events';
import type { BytePort, BytePortEvents } from './byte-port.js';

const TICK_MS = 5;

export class PacedPort extends EventEmitter<BytePortEvents> implements BytePort {
  private baud = 0;
  private queue: Buffer[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private credit = 0;
  private last = 0;

  constructor(private readonly inner: BytePort) {
    super();
    inner.on('data', (b) => this.emit('data', b));
    inner.on('host-open', () => this.emit('host-open'));
    inner.on('host-close', () => this.emit('host-close'));
    inner.on('overflow', (n) => this.emit('overflow', n));
  }

  get devicePath(): string {
    return this.inner.devicePath;
  }

  /** 0 = unpaced. */
  get baudRate(): number {
    return this.baud;
  }

  setBaud(baud: number): void {
    if (!Number.isFinite(baud) || baud < 0) throw new RangeError(`bad baud rate ${baud}`);
    this.baud = baud;
    if (baud === 0) this.flushAll();
  }

  write(bytes: Uint8Array): void {
    if (this.baud === 0 && this.queued === 0) {
      this.inner.write(bytes);
      return;
    }
    this.queue.push(Buffer.from(bytes));
    this.queued += bytes.length;
    this.start();
  }

  pendingBytes(): number {
    return this.queued + this.inner.pendingBytes();
  }

  async close(): Promise<void> {
    this.stop();
    this.queue = [];
    this.queued = 0;
    await this.inner.close();
  }

  private start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.credit = 0;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    this.credit += ((now - this.last) / 1000) * (this.baud / 10);
    this.last = now;
    let budget = Math.floor(this.credit);
    if (budget <= 0) return;
    this.credit -= budget;
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.length <= budget) {
        this.inner.write(head);
        this.queue.shift();
        this.queued -= head.length;
        budget -= head.length;
      } else {
        this.inner.write(head.subarray(0, budget));
        this.queue[0] = head.subarray(budget);
        this.queued -= budget;
        budget = 0;
      }
    }
    if (this.queue.length === 0) this.stop();
  }

  private flushAll(): void {
    this.stop();
    for (const b of this.queue) this.inner.write(b);
    this.queue = [];
    this.queued = 0;
  }
}
