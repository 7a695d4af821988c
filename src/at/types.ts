/**
 * The AT engine's vocabulary. Handlers return reply values and never write bytes: the engine
 * owns framing (`\r\n…\r\n`), echo, result codes, data mode and URC ordering.
 */

/** The four command forms (3GPP TS 27.007 §1.4 / esp-at's test/query/setup/exe). */
export type Form = 'test' | 'read' | 'set' | 'exec';

export type RawArg =
  | { kind: 'int'; value: number; text: string }
  | { kind: 'string'; value: string; text: string }
  /** An unquoted token that is not a decimal number (`0xFFFF`, an unquoted key). */
  | { kind: 'bare'; value: string; text: string }
  | { kind: 'empty'; text: string };

export interface ParsedCommand {
  /** Upper-cased name with its prefix: `+QMTOPEN`, `E`, `&F`, `S3`. */
  name: string;
  form: Form;
  args: RawArg[];
  /** The argument text as typed (set form only). */
  argText: string;
}

/** One line of a response: text (latin1) or raw bytes (binary payloads). */
export type Line = string | Buffer;

/** An error reply: plain `ERROR`, or a CME error whose rendering follows `AT+CMEE`. */
export interface ErrorOutcome {
  type: 'error';
  /** CME error number; absent = plain `ERROR` whatever AT+CMEE says (as the manual documents). */
  cme?: number;
  /** Why, for logs and transcripts; never shown to the host. */
  reason?: string;
}

export type DataSpec =
  /** Collect exactly `length` bytes (AT+QMTPUBEX). */
  | {
      mode: 'fixed';
      length: number;
      idleTimeoutMs: number;
      echo?: boolean;
      /** A Ctrl+Z before `length` bytes ends the input (not binary-safe; e.g. AT+TCCERTADD). */
      endOnCtrlZ?: boolean;
    }
  /**
   * Collect until Ctrl+Z (send) or ESC (cancel). Bytes past `maxLength` are discarded and
   * reported through `overflowed`.
   */
  | { mode: 'ctrl-z'; maxLength: number; idleTimeoutMs: number; echo?: boolean };

export type DataEnd =
  | { kind: 'complete'; payload: Buffer; overflowed: boolean }
  | { kind: 'cancelled'; payload: Buffer }
  | { kind: 'timeout'; payload: Buffer };

export type Outcome =
  /** Information lines (maybe none), then `OK`. */
  | { type: 'ok'; lines: Line[] }
  | ErrorOutcome
  /** Information lines then a final result code other than OK/ERROR. */
  | { type: 'final'; lines: Line[]; final: string }
  /** Information lines and no final result code at all (some vendors answer that way). */
  | { type: 'silent'; lines: Line[] }
  /** Write the prompt, enter data mode, then hand the collected bytes to `onData`. */
  | {
      type: 'prompt';
      /** Lines written before the prompt. */
      lines?: Line[];
      spec: DataSpec;
      onData: (end: DataEnd) => Outcome | Promise<Outcome>;
    };

export const ok = (...lines: Line[]): Outcome => ({ type: 'ok', lines });
export const error = (cme?: number, reason?: string): ErrorOutcome => ({ type: 'error', cme, reason });
export const final = (finalCode: string, ...lines: Line[]): Outcome => ({ type: 'final', lines, final: finalCode });

export interface UrcOptions {
  /** Wait this long (already scaled by the timing mode) before the URC may be written. */
  delayMs?: number;
}

/** What a handler may use besides its arguments. Generic over the vendor's own state. */
export interface CommandContext {
  readonly command: ParsedCommand;
  readonly name: string;
  readonly form: Form;
  readonly args: RawArg[];
  /**
   * Schedule an unsolicited result. It is written as its own write, never inside a response, and
   * never before the final result code of the command being executed.
   */
  urc(line: Line, opts?: UrcOptions): void;
}

export type Handler = (ctx: CommandContext) => Outcome | Promise<Outcome>;

/** One command, its forms as separate handlers (esp-at's `{ name, test, query, setup, exe }`). */
export interface CommandDef {
  /** Name with prefix as the parser produces it: `+QMTOPEN`, `E`, `&F`. */
  name: string;
  /** Its arguments may hold secrets: logs show `[redacted]` instead of them. */
  sensitive?: boolean;
  /** Other spellings accepted (manual OCR slips such as `+QMTCCLOSE`). */
  aliases?: string[];
  test?: Handler;
  read?: Handler;
  set?: Handler;
  exec?: Handler;
}
