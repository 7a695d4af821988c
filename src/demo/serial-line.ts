/**
 * The demo firmware's UART driver: it opens the modem's device (`/tmp/vmodem0`, or
 * `/dev/pts/N`) like a firmware opens `/dev/ttyUSB0` and speaks AT over it — a real client of the
 * PTY, not a shortcut into the engine. Lines are CRLF-framed; a data prompt (`> `) counts as a
 * line of its own. Modelled on the command/response + URC split of Zephyr's `modem_chat`.
 *
 * One non-blocking descriptor, polled: the modem serves the other end in this same process, so a
 * blocking read or write would stall it (FACTS, "The pseudo-terminal"). Not a tty.ReadStream:
 * libuv reopens a tty it is given, and the watcher of the device (src/port/host-watch.ts) sees
 * two opens in a row as one (inotify merges identical events), then the first close as the
 * firmware leaving.
 */
import fs from 'node:fs';
import { NonBlockingWriter } from './nonblocking-writer.js';

/** How often the port is read when nothing came (a UART driver's polling period). */
const POLL_MS = 10;

export class SerialLine {
  private readonly fd: number;
  private poller: NodeJS.Timeout | undefined;
  private readonly chunk = Buffer.alloc(4096);
  private buf = '';
  private closed = false;
  private readonly writer: NonBlockingWriter;

  constructor(
    readonly path: string,
    private readonly onLine: (text: string) => void,
  ) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    this.writer = new NonBlockingWriter(this.fd, () => this.close());
    this.poll();
  }

  private poll(): void {
    this.poller = undefined;
    for (;;) {
      if (this.closed) return;
      let n: number;
      try {
        n = fs.readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      } catch (err) {
        // EAGAIN: nothing to read now. Anything else (EIO: vmodem is gone) closes the port;
        // the runner notices on its next command.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.close();
        break;
      }
      if (n === 0) break;
      this.take(this.chunk.toString('latin1', 0, n));
    }
    if (!this.closed) this.poller = setTimeout(() => this.poll(), POLL_MS);
  }

  /** Send bytes (a command line with its CR, or a data payload). */
  write(data: string | Buffer): void {
    if (this.closed) throw new Error('the serial port is closed');
    this.writer.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Drop what was read but not yet handed out (after a pause: answers meant for someone else). */
  discard(): void {
    this.buf = '';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.stop();
    if (this.poller) clearTimeout(this.poller);
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already gone */
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private take(s: string): void {
    this.buf += s;
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      // A data prompt has no line end: `\r\n> ` (EC200) or `>` alone.
      if (nl < 0) {
        if (/^>\s?$/.test(this.buf)) {
          this.buf = '';
          this.onLine('>');
        }
        return;
      }
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 2);
      if (line !== '') this.onLine(line);
    }
  }
}
