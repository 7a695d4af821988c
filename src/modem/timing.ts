/**
 * Named delays from the profile. "real" uses the profile's figures (what the module takes for a
 * TCP connect, a CONNACK…); "fast" drops them: the engine still writes a URC only after the
 * final result code of the command that caused it.
 */
export type TimingMode = 'real' | 'fast';

/**
 * 0: the engine holds every URC until the final result code of the command in progress is
 * written, so no delay is needed to keep the order; 1 ms used to cost a timer on every result
 * (a QoS 1 publish paid it twice), which made "fast" latency-bound (issue 12 §3).
 */
export const FAST_DELAY_MS = 0;

export class Timing {
  constructor(
    readonly mode: TimingMode,
    private readonly table: Record<string, number>,
  ) {}

  /** A time limit (a timeout the module waits for, not a delay it adds): never shortened. */
  limit(name: string, fallback: number): number {
    return this.table[name] ?? fallback;
  }

  /** The delay for `name`, or `fallback` when the profile does not name it. */
  delay(name: string, fallback = 0): number {
    const ms = this.table[name] ?? fallback;
    return this.mode === 'fast' ? Math.min(ms, FAST_DELAY_MS) : ms;
  }

  /**
   * A radio figure of settings.radio (registration, boot, context activation) as this mode runs
   * it. "fast" makes it 0: the state change happens at once, and its URCs still follow the final
   * result code of the command that caused it (the engine holds URCs while a command runs).
   */
  scale(ms: number): number {
    return this.mode === 'fast' ? 0 : ms;
  }
}
