/**
 * The recording format (JSON Lines, one record per line; see FORMAT.md). Every record has `type`
 * and `t`: milliseconds since the recording started (fractional, 3 decimals).
 */

/** The format version written in the start record. */
export const RECORDING_FORMAT = 1;

/** Bytes as recorded: `hex` always (exact); `text` (latin1) too when every byte is printable. */
export interface RecordedBytes {
  /** latin1 text; present only when every byte is printable (0x20–0x7E, 0xA0–0xFF, TAB, CR, LF). */
  text?: string;
  /** The exact bytes, lowercase hex. */
  hex: string;
}

export interface StartRecord {
  type: 'start';
  t: 0;
  /** Wall-clock time the recording started (ISO 8601, UTC). */
  time: string;
  format: typeof RECORDING_FORMAT;
  /** vmodem package version. */
  vmodem: string;
  /** Node.js version (process.version). */
  node: string;
  profile?: string;
  /** The profile's module family, the model (AT+GMM) and firmware revision (AT+GMR) it reports. */
  module?: string;
  model?: string;
  revision?: string;
  /** Echo (ATE) setting when the engine was attached. */
  echo?: boolean;
  timing?: string;
  /** Anything the caller added (`meta`). */
  [key: string]: unknown;
}

/** The AT engine was attached after the start record (its echo setting at that moment). */
export interface AttachRecord {
  type: 'attach';
  t: number;
  echo: boolean;
}

/** Bytes from the host (firmware) to the modem, one record per chunk as it arrived. */
export interface InRecord extends RecordedBytes {
  type: 'in';
  t: number;
}

/** Bytes from the modem to the host, one record per write, with what they were. */
export interface OutRecord extends RecordedBytes {
  type: 'out';
  t: number;
  kind: 'echo' | 'response' | 'urc' | 'prompt';
}

/** A command line the engine executes (the text after `AT`). */
export interface CommandRecord {
  type: 'command';
  t: number;
  line: string;
}

/** An unsolicited result code the modem wrote (line without its CRLF framing). */
export interface UrcRecord {
  type: 'urc';
  t: number;
  /** latin1 text of the line. */
  line: string;
  /** The line's exact bytes, when it holds non-printable ones. */
  hex?: string;
}

/**
 * The device's MQTT traffic, seen from the device's links: `dir` + `packet` for a packet sent
 * ('out') or received ('in'); `event` for what is not a packet (open, close, timeout, …).
 */
export interface MqttRecord {
  type: 'mqtt';
  t: number;
  /** Link number: 1 for the first transport the device opened, 2 for the next, … */
  link: number;
  dir?: 'in' | 'out';
  packet?: 'connect' | 'connack' | 'publish' | 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' | 'subscribe' | 'suback' | 'unsubscribe' | 'unsuback' | 'pingresp' | 'disconnect';
  event?: 'open' | 'open-failed' | 'close' | 'timeout' | 'closed' | 'retransmit' | 'rejected';
  [key: string]: unknown;
}

/** What the embedded broker saw (every client; `device` marks the device's own clients). */
export interface BrokerRecord {
  type: 'broker';
  t: number;
  event: 'client' | 'clientDisconnect' | 'clientError' | 'connackSent' | 'publish' | 'subscribe' | 'unsubscribe' | 'ack' | 'keepaliveTimeout';
  /** null for publishes that no client sent (the cloud side: the control API, aedes.publish). */
  clientId: string | null;
  /** The client id is one the device connected with (known when the links are wrapped). */
  device?: boolean;
  [key: string]: unknown;
}

/** Something a caller marked (a fault injected through the control API, a test step…). */
export interface EventRecord {
  type: 'event';
  t: number;
  name: string;
  [key: string]: unknown;
}

export interface StopRecord {
  type: 'stop';
  t: number;
}

export type RecordingRecord =
  | StartRecord
  | AttachRecord
  | InRecord
  | OutRecord
  | CommandRecord
  | UrcRecord
  | MqttRecord
  | BrokerRecord
  | EventRecord
  | StopRecord;

function printable(b: number): boolean {
  return (b >= 0x20 && b <= 0x7e) || b >= 0xa0 || b === 0x09 || b === 0x0a || b === 0x0d;
}

export function isPrintable(bytes: Uint8Array): boolean {
  for (const b of bytes) if (!printable(b)) return false;
  return true;
}

/** `{ text?, hex }` for a chunk of bytes. */
export function recordBytes(bytes: Uint8Array): RecordedBytes {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hex = buf.toString('hex');
  return isPrintable(buf) ? { text: buf.toString('latin1'), hex } : { hex };
}

/** The exact bytes of a recorded chunk. */
export function bytesOf(r: { hex?: string; text?: string }): Buffer {
  if (typeof r.hex === 'string') return Buffer.from(r.hex, 'hex');
  if (typeof r.text === 'string') return Buffer.from(r.text, 'latin1');
  return Buffer.alloc(0);
}

export class RecordingFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingFormatError';
  }
}

/** A record with the line of the .jsonl it came from (1-based). */
export type NumberedRecord = RecordingRecord & { readonly lineNo: number };

/** Parse a .jsonl recording; blank lines are skipped, anything else must be a record. */
export function readRecording(jsonl: string): NumberedRecord[] {
  const out: NumberedRecord[] = [];
  jsonl.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      throw new RecordingFormatError(`recording line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    if (typeof rec !== 'object' || rec === null || typeof (rec as { type?: unknown }).type !== 'string') {
      throw new RecordingFormatError(`recording line ${i + 1}: not a record (no "type")`);
    }
    out.push({ ...(rec as RecordingRecord), lineNo: i + 1 });
  });
  return out;
}
