/**
 * Command-line assembly per ITU-T V.250 §5.2.1: characters before `AT` are ignored, the line
 * ends with S3 (CR; a lone LF is accepted too, as many drivers send it), S5 (backspace) edits
 * the line, and an LF right after the CR is swallowed. `A/` repeats the last line (§6.2.1).
 *
 * The reader is a pure byte state machine: it reports what to echo and which lines completed, so
 * the engine decides when to write. Echo covers the command line from its `A` through the
 * terminator; junk before `AT` (including a lone `A` not followed by `T` or `/`) is not echoed.
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

const NO_ECHO: readonly number[] = [];

type FeedResult = { readonly echo: readonly number[]; readonly event?: LineEvent };

/**
 * The results that carry no event, made once: feed() runs per byte, and a new object and array
 * for each byte of every command line was a large share of what a 1,000-modem fleet allocated
 * (issue 12 §3). They are frozen: callers only read them.
 */
const NOTHING: FeedResult = Object.freeze({ echo: NO_ECHO });
const ECHO_ONE: readonly FeedResult[] = Array.from({ length: 256 }, (_, b) => Object.freeze({ echo: Object.freeze([b]) }));

export class LineReader {
  private state: 'idle' | 'got-a' | 'in-line' | 'overflow' = 'idle';
  private buf: number[] = [];
  /**
   * In 'got-a': the `A` (or `a`) not echoed yet. An `A` is only the start of a command once the
   * `T` (or `/`) follows; until then it may be junk, and junk is never echoed.
   */
  private heldA: number | null = null;
  /** True right after a CR ended a line, so a following LF is swallowed (not data, not echoed). */
  private afterCr = false;

  constructor(private maxLength: number) {}

  setMaxLength(n: number): void {
    this.maxLength = n;
  }

  /** Whether a partial line is in progress (URCs may still be written, as on real modules). */
  get busy(): boolean {
    return this.state !== 'idle';
  }

  /** Whether the last line ended with CR and no byte has been fed since (an LF now is its pair). */
  get lineEndedWithCr(): boolean {
    return this.afterCr && this.state === 'idle';
  }

  /** Forget that the last line ended with CR (the LF after it was consumed elsewhere). */
  clearAfterCr(): void {
    this.afterCr = false;
  }

  /**
   * Feed one byte. Returns the bytes to echo (possibly none; a held `A` comes out with the `T`
   * after it) and an event when a line is complete.
   */
  feed(byte: number): FeedResult {
    const wasAfterCr = this.afterCr;
    this.afterCr = false;
    switch (this.state) {
      case 'idle':
        if (byte === LF && wasAfterCr) return NOTHING;
        if (byte === 0x41 || byte === 0x61) {
          this.state = 'got-a';
          this.heldA = byte;
          return NOTHING;
        }
        // Junk between lines is dropped silently (V.250: characters before "AT" are ignored).
        return NOTHING;
      case 'got-a': {
        const held = this.heldA;
        const withHeld = (b: number): number[] => (held === null ? [b] : [held, b]);
        if (byte === 0x54 || byte === 0x74) {
          this.state = 'in-line';
          this.heldA = null;
          this.buf = [];
          return { echo: withHeld(byte) };
        }
        if (byte === 0x2f) {
          this.state = 'idle';
          this.heldA = null;
          return { echo: withHeld(byte), event: { kind: 'repeat' } };
        }
        if (byte === BS || byte === DEL) {
          this.state = 'idle';
          this.heldA = null;
          // Only an `A` the host saw echoed (backspacing over `AT`) needs its backspace echoed.
          return held === null ? ECHO_ONE[byte]! : NOTHING;
        }
        if (byte === 0x41 || byte === 0x61) {
          // The previous `A` was junk; this one may start the command.
          if (held === null) return ECHO_ONE[byte]!;
          this.heldA = byte;
          return NOTHING;
        }
        this.state = 'idle';
        this.heldA = null;
        return NOTHING;
      }
      case 'in-line':
      case 'overflow':
        if (byte === CR || byte === LF) {
          const overflowed = this.state === 'overflow';
          this.state = 'idle';
          this.afterCr = byte === CR;
          const body = Buffer.from(this.buf).toString('latin1');
          this.buf = [];
          return { echo: [byte], event: overflowed ? { kind: 'overflow' } : { kind: 'line', body } };
        }
        if (byte === BS || byte === DEL) {
          if (this.state === 'in-line') {
            if (this.buf.length > 0) this.buf.pop();
            else this.state = 'got-a'; // backspace over the T; the A stays (already echoed)
          }
          return ECHO_ONE[byte]!;
        }
        if (this.state === 'overflow') return NOTHING;
        if (this.buf.length + 2 >= this.maxLength) {
          this.state = 'overflow';
          this.buf = [];
          return NOTHING;
        }
        this.buf.push(byte);
        return ECHO_ONE[byte]!;
    }
  }

  reset(): void {
    this.state = 'idle';
    this.buf = [];
    this.heldA = null;
    this.afterCr = false;
  }
}
