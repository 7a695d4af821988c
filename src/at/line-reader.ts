/**
 * Command-line assembly per ITU-T V.250 §5.2.1: characters before `AT` are ignored, the line
 * ends with S3 (CR; a lone LF is accepted too, as many drivers send it), S5 (backspace) edits
 * the line, and an LF right after the CR is swallowed. `A/` repeats the last line (§6.2.1).
 *
 * The reader is a pure byte state machine: it reports what to echo and which lines completed, so
 * the engine decides when to write.
 */

export type LineEvent =
  | { kind: 'line'; body: string }
  /** The line exceeded the length limit; answer ERROR. */
  | { kind: 'overflow' }
  /** `A/`: repeat the previous command line. */
  | { kind: 'repeat' };

const CR = 0x0d;
const LF = 0x0a;
const BS = 0x08;
const DEL = 0x7f;

export class LineReader {
  private state: 'idle' | 'got-a' | 'in-line' | 'overflow' = 'idle';
  private buf: number[] = [];
  /** True right after a terminator, so a following LF is swallowed (not a new empty line). */
  private afterCr = false;

  constructor(private maxLength: number) {}

  setMaxLength(n: number): void {
    this.maxLength = n;
  }

  /** Whether a partial line is in progress (URCs may still be written, as on real modules). */
  get busy(): boolean {
    return this.state !== 'idle';
  }

  /**
   * Feed one byte. Returns the bytes to echo (possibly empty) and an event when a line is
   * complete.
   */
  feed(byte: number): { echo: boolean; event?: LineEvent } {
    const wasAfterCr = this.afterCr;
    this.afterCr = false;
    switch (this.state) {
      case 'idle':
        if (byte === LF && wasAfterCr) return { echo: false };
        if (byte === 0x41 || byte === 0x61) {
          this.state = 'got-a';
          return { echo: true };
        }
        // Junk between lines is dropped silently (V.250: characters before "AT" are ignored).
        return { echo: false };
      case 'got-a':
        if (byte === 0x54 || byte === 0x74) {
          this.state = 'in-line';
          this.buf = [];
          return { echo: true };
        }
        if (byte === 0x2f) {
          this.state = 'idle';
          return { echo: true, event: { kind: 'repeat' } };
        }
        if (byte === BS || byte === DEL) {
          this.state = 'idle';
          return { echo: true };
        }
        if (byte === 0x41 || byte === 0x61) return { echo: true };
        this.state = 'idle';
        return { echo: false };
      case 'in-line':
      case 'overflow':
        if (byte === CR || byte === LF) {
          const overflowed = this.state === 'overflow';
          this.state = 'idle';
          this.afterCr = byte === CR;
          const body = Buffer.from(this.buf).toString('latin1');
          this.buf = [];
          return { echo: true, event: overflowed ? { kind: 'overflow' } : { kind: 'line', body } };
        }
        if (byte === BS || byte === DEL) {
          if (this.state === 'in-line') {
            if (this.buf.length > 0) this.buf.pop();
            else this.state = 'got-a'; // backspace over the T
          }
          return { echo: true };
        }
        if (this.state === 'overflow') return { echo: false };
        if (this.buf.length + 2 >= this.maxLength) {
          this.state = 'overflow';
          this.buf = [];
          return { echo: false };
        }
        this.buf.push(byte);
        return { echo: true };
    }
  }

  reset(): void {
    this.state = 'idle';
    this.buf = [];
    this.afterCr = false;
  }
}
