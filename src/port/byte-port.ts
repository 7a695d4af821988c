/**
 * The byte transport between the firmware (host) and the modem.
 *
 * Everything above this interface sees only bytes: the AT engine never knows whether it is
 * talking through a pseudo-terminal or an in-memory pair. Modelled on serialport's mock binding:
 * tests push host bytes and read what the modem wrote.
 */
import type { EventEmitter } from 'node:events';

export interface BytePortEvents {
  /** Bytes the host (firmware) sent to the modem. */
  data: [chunk: Buffer];
  /** The host opened the device (best effort: PTYs report it through inotify). */
  'host-open': [];
  /** The host closed the device. */
  'host-close': [];
  /** Output was dropped because the host stopped reading and the bounded queue overflowed. */
  overflow: [droppedBytes: number];
}

export interface BytePort extends EventEmitter<BytePortEvents> {
  /** Human-readable location, e.g. `/dev/pts/7` or `memory`. */
  readonly devicePath: string;
  /**
   * Queue bytes for the host. Never blocks and never throws: when the host stops reading, the
   * bounded queue drops the oldest output like a real UART overrun would, and emits `overflow`.
   */
  write(bytes: Uint8Array): void;
  /** Bytes queued but not yet accepted by the OS. */
  pendingBytes(): number;
  /** Release the device; idempotent. */
  close(): Promise<void>;
}
