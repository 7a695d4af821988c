/**
 * An in-memory twin of the PTY: the modem side is a BytePort, the host side a plain object that
 * tests drive. Writes are delivered asynchronously (next microtask) so ordering matches a real
 * device without any OS involvement.
 */
import { EventEmitter } from 'node:events';
import type { BytePort, BytePortEvents } from './byte-port.js';

export interface MemoryHost {
  /** Send bytes from the host to the modem. */
  send(bytes: string | Uint8Array): void;
  /** Everything the modem has written so far. */
  readonly received: Buffer;
  /** Each write() of the modem, as separate chunks (to check that URCs are their own writes). */
  readonly writes: Buffer[];
  /** Forget what was received. */
  clear(): void;
  /** Subscribe to modem output. */
  onData(listener: (chunk: Buffer) => void): () => void;
}

export class MemoryPort extends EventEmitter<BytePortEvents> implements BytePort {
  readonly devicePath = 'memory';
  private closed = false;
  private readonly writes: Buffer[] = [];
  private readonly outputListeners = new Set<(chunk: Buffer) => void>();

  readonly host: MemoryHost;

  constructor() {
    super();
    // The getters below run with `this` = the host object: they reach the port's array directly.
    const writes = this.writes;
    this.host = {
      send: (bytes) => {
        const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
        queueMicrotask(() => {
          if (!this.closed) this.emit('data', buf);
        });
      },
      get received() {
        return Buffer.concat(writes);
      },
      get writes() {
        return writes.slice();
      },
      clear: () => {
        writes.length = 0;
      },
      onData: (listener) => {
        this.outputListeners.add(listener);
        return () => this.outputListeners.delete(listener);
      },
    };
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    const buf = Buffer.from(bytes);
    this.writes.push(buf);
    for (const l of this.outputListeners) l(buf);
  }

  pendingBytes(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
