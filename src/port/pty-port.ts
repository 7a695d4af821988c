/**
 * The modem's real serial port: the master side of a pseudo-terminal. The firmware (host) opens
 * the slave, `/dev/pts/N`, or a stable symlink to it, exactly as it would open `/dev/ttyUSB0`.
 *
 * - The pair comes from openpty(3) through node-pty's native binding (see native-pty.ts); no
 *   child process, no hidden reader on the slave.
 * - The slave is switched to `raw -echo` with stty right away, so all 256 byte values pass
 *   unchanged both ways even if the firmware never configures the terminal.
 * - We keep our own slave descriptor open for the port's whole life (never reading from it):
 *   otherwise the master reads EIO as soon as the firmware closes the device, and the device
 *   node vanishes before a restarted firmware can reopen it.
 * - Reads use a tty.ReadStream on the master. Writes never go through a Node tty stream (libuv
 *   spins on EAGAIN in the event loop when the ~16 KB kernel buffer is full): they go through a
 *   bounded queue drained with non-blocking writev, retried with a short setImmediate burst and
 *   then a timer back-off. When the host stops reading and the queue is full, the oldest bytes
 *   are dropped, like a UART overrun, and 'overflow' reports how many.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import tty from 'node:tty';
import type { BytePort, BytePortEvents } from './byte-port.js';
import { openRawPty } from './native-pty.js';
import { checkLinkPath, publishLink, removeLink } from './device-link.js';
import { watchHost, type HostWatcher } from './host-watch.js';
import { makeRaw } from './raw-mode.js';
import { silentLogger, type Logger } from '../util/logger.js';

export const DEFAULT_MAX_QUEUE_BYTES = 256 * 1024;

export interface PtyPortOptions {
  /** Publish the device under this stable path (a symlink to /dev/pts/N), removed on close. */
  link?: string;
  log?: Logger;
  /** Bound of the output queue (bytes accepted by write() but not yet by the kernel). */
  maxQueueBytes?: number;
  /**
   * Report 'host-open' / 'host-close' (inotify through a small python3 helper; silently
   * unavailable without python3). Default true.
   */
  hostEvents?: boolean;
}

/** Retries through setImmediate before falling back to timers. */
const IMMEDIATE_BURST = 8;
/** Timer back-off after the burst: 1, 2, 4, ... ms, capped here. */
const MAX_BACKOFF_MS = 50;
const OVERFLOW_LOG_INTERVAL_MS = 5000;
/** Per writev: at most this many chunks / bytes. */
const IOV_MAX_CHUNKS = 64;
const IOV_MAX_BYTES = 64 * 1024;
/** The raw settings we rely on, as `stty -a` prints them. */
const REQUIRED_STTY = [
  '-icanon', '-isig', '-echo', '-opost', '-icrnl', '-inlcr', '-igncr', '-ixon', '-istrip',
  '-parmrk', 'cs8', '-parenb',
];

/** FIFO of byte chunks with O(1) push / consume / drop-oldest. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  private headOff = 0;
  size = 0;

  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.size += buf.length;
  }

  /** Up to maxChunks views from the front, totalling at most about maxBytes. */
  peek(maxChunks: number, maxBytes: number): Buffer[] {
    const out: Buffer[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.chunks.length && out.length < maxChunks; i++) {
      let c = this.chunks[i]!;
      if (i === this.head && this.headOff) c = c.subarray(this.headOff);
      if (bytes + c.length > maxBytes) {
        if (out.length === 0) out.push(c.subarray(0, maxBytes));
        break;
      }
      out.push(c);
      bytes += c.length;
    }
    return out;
  }

  /** Remove n bytes from the front (n ≤ size). Returns n. */
  consume(n: number): number {
    let left = n;
    while (left > 0 && this.head < this.chunks.length) {
      const c = this.chunks[this.head]!;
      const avail = c.length - this.headOff;
      if (left >= avail) {
        left -= avail;
        this.chunks[this.head] = EMPTY;
        this.head++;
        this.headOff = 0;
      } else {
        this.headOff += left;
        left = 0;
      }
    }
    const done = n - left;
    this.size -= done;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return done;
  }

  clear(): number {
    const n = this.size;
    this.chunks = [];
    this.head = 0;
    this.headOff = 0;
    this.size = 0;
    return n;
  }
}
const EMPTY = Buffer.alloc(0);

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class PtyPort extends EventEmitter<BytePortEvents> implements BytePort {
  /** The slave device the firmware opens, e.g. `/dev/pts/7`. */
  readonly devicePath: string;
  private link: string | undefined;

  private readonly log: Logger;
  private readonly maxQueueBytes: number;
  private readonly masterFd: number;
  private readonly slaveFd: number;
  private readonly reader: tty.ReadStream;
  private readonly queue = new ByteQueue();
  private retryAttempt = 0;
  private retryImmediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private droppedUnreported = 0;
  private droppedSinceLog = 0;
  private lastOverflowLog = -Infinity;
  private closed = false;
  private closing: Promise<void> | undefined;
  private watcher: HostWatcher | undefined;
  private flowing = false;

  /** @internal Use openPtyPort(). */
  constructor(init: {
    masterFd: number;
    slaveFd: number;
    devicePath: string;
    log: Logger;
    maxQueueBytes: number;
  }) {
    super();
    this.masterFd = init.masterFd;
    this.slaveFd = init.slaveFd;
    this.devicePath = init.devicePath;
    this.log = init.log;
    this.maxQueueBytes = init.maxQueueBytes;

    this.reader = new tty.ReadStream(this.masterFd);
    this.reader.on('error', (err) => {
      if (!this.closed) this.log.error({ err }, 'read error on PTY master');
    });
    this.reader.on('close', () => {
      if (!this.closed) this.log.error('PTY master closed unexpectedly; the port no longer reads');
    });
    // The stream buffers (and then lets the kernel hold) host bytes until someone listens for
    // 'data', so nothing the host sends between creation and the first listener is lost.
    // 'newListener' is not part of BytePortEvents, hence the untyped view.
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'data' && !this.flowing) {
        this.flowing = true;
        process.nextTick(() => this.startReading());
      }
    });
  }

  /** The published symlink (absolute), if any. */
  get linkPath(): string | undefined {
    return this.link;
  }

  /** @internal Set by openPtyPort once the link is published. */
  setLinkPath(p: string): void {
    this.link = p;
  }

  private startReading(): void {
    if (this.closed) return;
    this.reader.on('data', (chunk: Buffer | string) => {
      if (this.closed) return;
      this.emit('data', typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    });
  }

  /** Whether opens and closes of the device by a firmware are reported ('host-open'/'host-close'). */
  get hostWatched(): boolean {
    return this.watcher !== undefined;
  }

  /** @internal */
  setWatcher(w: HostWatcher | undefined): void {
    if (this.closed) w?.stop();
    else this.watcher = w;
  }

  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    let buf = Buffer.from(bytes); // copy: the caller may reuse its buffer
    let dropped = 0;
    if (buf.length > this.maxQueueBytes) {
      dropped += buf.length - this.maxQueueBytes;
      buf = buf.subarray(buf.length - this.maxQueueBytes);
    }
    const excess = this.queue.size + buf.length - this.maxQueueBytes;
    if (excess > 0) dropped += this.queue.consume(excess);
    this.queue.push(buf);
    if (dropped > 0) this.reportOverflow(dropped);
    // Try right away unless a retry is already pending (then the kernel buffer is full).
    if (!this.retryImmediate && !this.retryTimer) this.flush();
  }

  pendingBytes(): number {
    return this.queue.size;
  }

  private reportOverflow(n: number): void {
    const first = this.droppedUnreported === 0;
    this.droppedUnreported += n;
    if (!first) return;
    process.nextTick(() => {
      const count = this.droppedUnreported;
      this.droppedUnreported = 0;
      if (count === 0 || this.closed) return;
      // Log at most every few seconds: a stuck host with a chatty modem would flood the log.
      this.droppedSinceLog += count;
      const now = Date.now();
      if (now - this.lastOverflowLog >= OVERFLOW_LOG_INTERVAL_MS) {
        this.log.warn(
          { dropped: this.droppedSinceLog, bound: this.maxQueueBytes },
          'host not reading: output dropped',
        );
        this.lastOverflowLog = now;
        this.droppedSinceLog = 0;
      }
      this.emit('overflow', count);
    });
  }

  private flush(): void {
    this.retryImmediate = undefined;
    this.retryTimer = undefined;
    while (!this.closed && this.queue.size > 0) {
      const iov = this.queue.peek(IOV_MAX_CHUNKS, IOV_MAX_BYTES);
      let want = 0;
      for (const c of iov) want += c.length;
      let n: number;
      try {
        n = iov.length === 1 ? fs.writeSync(this.masterFd, iov[0]!) : fs.writevSync(this.masterFd, iov);
      } catch (err) {
        const c = errCode(err);
        if (c === 'EAGAIN' || c === 'EWOULDBLOCK' || c === 'EINTR') {
          this.scheduleRetry();
        } else {
          const lost = this.queue.clear();
          this.log.error({ err, lost }, 'write to PTY master failed; queued output discarded');
        }
        return;
      }
      if (n > 0) this.retryAttempt = 0;
      this.queue.consume(n);
      if (n < want) {
        // The kernel buffer is full; the next write would fail with EAGAIN.
        this.scheduleRetry();
        return;
      }
    }
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryImmediate || this.retryTimer) return;
    const attempt = this.retryAttempt++;
    if (attempt < IMMEDIATE_BURST) {
      this.retryImmediate = setImmediate(() => this.flush());
    } else {
      const delay = Math.min(MAX_BACKOFF_MS, 2 ** (attempt - IMMEDIATE_BURST));
      this.retryTimer = setTimeout(() => this.flush(), delay);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    // One last non-blocking attempt, so a final reply is not lost when the host is reading.
    if (!this.closed && this.queue.size > 0) {
      if (this.retryImmediate) clearImmediate(this.retryImmediate);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.flush();
    }
    this.closed = true;
    if (this.retryImmediate) clearImmediate(this.retryImmediate);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryImmediate = undefined;
    this.retryTimer = undefined;
    const discarded = this.queue.clear();
    if (this.linkPath) {
      const removed = await removeLink(this.linkPath, this.devicePath);
      if (!removed) this.log.debug({ link: this.linkPath }, 'link no longer ours; left in place');
    }
    this.watcher?.stop();
    this.watcher = undefined;
    // Close the master first (the stream owns its descriptor), then our slave: closing the
    // slave first would make the still-open master read EIO.
    await new Promise<void>((resolve) => {
      if (this.reader.closed) return resolve();
      this.reader.once('close', () => resolve());
      this.reader.destroy();
    });
    try {
      fs.closeSync(this.slaveFd);
    } catch (err) {
      this.log.debug({ err }, 'closing slave descriptor failed');
    }
    this.log.info({ device: this.devicePath, discarded }, 'PTY closed');
  }
}

/**
 * Create a pseudo-terminal for the firmware to open. Resolves once the device is raw, the
 * modem side is reading, and (if `link` is given) the link is published.
 */
export async function openPtyPort(opts: PtyPortOptions = {}): Promise<PtyPort> {
  const log = (opts.log ?? silentLogger()).child({ component: 'pty' });
  const maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  if (!Number.isInteger(maxQueueBytes) || maxQueueBytes < 1) {
    throw new Error(`maxQueueBytes must be a positive integer, got ${maxQueueBytes}`);
  }
  // Fail on a bad link path before creating anything.
  if (opts.link !== undefined) await checkLinkPath(opts.link);

  const raw = openRawPty();
  const openFds = new Set([raw.master, raw.slave]);
  let port: PtyPort | undefined;
  try {
    // Replace openpty's inheritable slave descriptor with a close-on-exec one (Node opens with
    // O_CLOEXEC), so child processes do not hold the slave and confuse open/close tracking.
    const slaveFd = fs.openSync(
      raw.path,
      fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK,
    );
    openFds.add(slaveFd);
    openFds.delete(raw.slave);
    fs.closeSync(raw.slave);
    // With host events the watcher's helper makes the device raw too (one child process instead
    // of three, issue 12 §3); without them, or when the helper is unavailable, stty does.
    let watcher: HostWatcher | undefined;
    if (opts.hostEvents ?? true) {
      watcher = await watchHost(raw.path, { onOpen: () => port?.emit('host-open'), onClose: () => port?.emit('host-close') }, log, {
        ownFds: [slaveFd],
        makeRaw: true,
      });
    }
    if (!watcher?.madeRaw) {
      try {
        await makeRaw(raw.path, REQUIRED_STTY);
      } catch (err) {
        watcher?.stop();
        throw err;
      }
    }

    port = new PtyPort({
      masterFd: raw.master,
      slaveFd,
      devicePath: raw.path,
      log,
      maxQueueBytes,
    });
    port.setWatcher(watcher);
    if (opts.link !== undefined) {
      const { path: linkPath, replaced } = await publishLink(opts.link, raw.path);
      port.setLinkPath(linkPath);
      if (replaced !== undefined) log.info({ link: linkPath, was: replaced }, 'replaced existing link');
    }
    log.info({ device: raw.path, link: port.linkPath, maxQueueBytes }, 'PTY ready');
    return port;
  } catch (err) {
    if (port) {
      await port.close();
    } else {
      for (const fd of openFds) {
        try {
          fs.closeSync(fd);
        } catch {
          /* already closed */
        }
      }
    }
    throw err;
  }
}
