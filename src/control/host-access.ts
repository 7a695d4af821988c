/**
 * Who may type on the serial port: the firmware that holds the PTY, or a person at the
 * dashboard's terminal (issue 11). Bytes typed in the dashboard enter the modem exactly as the
 * firmware's would (the port's 'data' event), so the AT engine cannot tell them apart — and its
 * answers go to the PTY as always, where a firmware would read them too. That is why typing is
 * refused while a firmware holds the port, unless the user took it over explicitly; the demo
 * firmware pauses while it is taken over.
 *
 * Whether the firmware holds the port comes from the PTY's host-open/host-close events
 * (src/port/host-watch.ts, inotify); without them (no python3, or many modems) it is unknown,
 * and typing is allowed.
 */
import { ControlError } from './controller.js';

/** The port side HostAccess needs: the modem's serial port (PacedPort), which forwards host events. */
export interface HostPort {
  emit(event: 'data', chunk: Buffer): boolean;
  on(event: 'host-open' | 'host-close', listener: () => void): unknown;
  off(event: 'host-open' | 'host-close', listener: () => void): unknown;
}

export interface HostState {
  /** Opens and closes of the PTY are observed (false: `open` is unknown). */
  watched: boolean;
  /** A firmware (any process) has the PTY open; null when not watched. */
  open: boolean | null;
  /** The dashboard's user took the port over: typing is allowed, the demo firmware pauses. */
  takenOver: boolean;
}

/** Longest line of typing accepted at once (a paste of a data-mode payload fits). */
export const MAX_HOST_INPUT = 64 * 1024;

export class HostAccess {
  private open = false;
  private takenOver = false;
  private readonly listeners = new Set<(s: HostState) => void>();
  private readonly detach: () => void;

  constructor(
    private readonly port: HostPort,
    private readonly watched: boolean,
  ) {
    const onOpen = () => this.set(() => (this.open = true));
    const onClose = () => this.set(() => (this.open = false));
    port.on('host-open', onOpen);
    port.on('host-close', onClose);
    this.detach = () => {
      port.off('host-open', onOpen);
      port.off('host-close', onClose);
    };
  }

  get state(): HostState {
    return { watched: this.watched, open: this.watched ? this.open : null, takenOver: this.takenOver };
  }

  /** Whether typing would be accepted now. */
  get writable(): boolean {
    return this.takenOver || !this.watched || !this.open;
  }

  /** Bytes typed by a person: they reach the modem as if the firmware had sent them. */
  write(bytes: Buffer): void {
    if (bytes.length === 0) throw new ControlError('bad-request', 'nothing to send');
    if (bytes.length > MAX_HOST_INPUT) throw new ControlError('bad-request', `at most ${MAX_HOST_INPUT} bytes at once`);
    if (!this.writable) {
      throw new ControlError('port-held', 'a firmware holds the serial port: take it over first (POST …/takeover {"on": true})', 409);
    }
    this.port.emit('data', Buffer.from(bytes));
  }

  /** Take the port over (typing allowed, the demo firmware pauses) or hand it back. */
  takeOver(on: boolean): void {
    if (on === this.takenOver) return;
    this.set(() => (this.takenOver = on));
  }

  /** Called with the new state on every change. */
  watch(listener: (s: HostState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.detach();
    this.listeners.clear();
  }

  private set(change: () => void): void {
    const before = JSON.stringify(this.state);
    change();
    const now = this.state;
    if (JSON.stringify(now) === before) return;
    for (const l of this.listeners) l(now);
  }
}
