/**
 * Writes to a non-blocking serial descriptor from a queue, as the demo firmware and driven
 * fleets do: the modem serving the other end lives in the same process, so a blocking write
 * would stall it (FACTS, "The pseudo-terminal"). On EAGAIN the rest waits 5 ms; any other error
 * ends the line (`onFailed`).
 */
import fs from 'node:fs';

export class NonBlockingWriter {
  private pending: Buffer[] = [];
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly fd: number,
    private readonly onFailed: () => void,
  ) {}

  write(data: Buffer): void {
    this.pending.push(data);
    this.flush();
  }

  /** Forget what was not written and stop retrying. */
  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.pending = [];
  }

  private flush(): void {
    this.retry = undefined;
    while (!this.stopped && this.pending.length > 0) {
      const b = this.pending[0]!;
      let n: number;
      try {
        n = fs.writeSync(this.fd, b);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.retry = setTimeout(() => this.flush(), 5);
          return;
        }
        this.onFailed();
        return;
      }
      if (n < b.length) this.pending[0] = b.subarray(n);
      else this.pending.shift();
    }
  }
}
