/**
 * A profile is data: which module vmodem pretends to be, its identity strings, AT framing
 * settings, error-code texts, timings and the command sets it enables. Behaviour lives in
 * src/vendors/; profiles/<id>.json holds the numbers. No vendor names in this file.
 */

export interface ProfileIdentity {
  manufacturer: string;
  model: string;
  revision: string;
  /** IMEI of the first modem; later modems (--count) derive theirs from it. */
  imei: string;
  /** Lines ATI prints before OK. */
  ati: string[];
}

export interface ProfileAt {
  /** Longest accepted command line, including `AT`. */
  maxLineLength: number;
  /** Bytes written when a command asks for data, e.g. "\r\n> ". */
  prompt: string;
  /** Echo at power-on (ATE). */
  echo: boolean;
  /** AT+CMEE at power-on. */
  cmee: 0 | 1 | 2;
  /** Inside quoted arguments a backslash escapes the next character. */
  backslashInQuotes?: boolean;
  /** Lines printed before the `ERROR` of an unknown command (ESP-AT: `ERR CODE:0x01090000`). */
  unknownCommandLines?: string[];
}

export interface Profile {
  id: string;
  /** Human name of the module family. */
  module: string;
  vendor: string;
  /** The manual this profile follows (file in shared/specs and its title). */
  manual: { file: string; title: string };
  identity: ProfileIdentity;
  at: ProfileAt;
  /** CME error number → verbose text (AT+CMEE=2). */
  cmeErrors: Record<string, string>;
  /** Named delays in milliseconds that model the real module ("real" timing). */
  timing: Record<string, number>;
  /**
   * The network as the module's radio sees it (src/mqtt/network-timing.ts): results that need
   * the network are reported no sooner than its round trips allow ("real" timing only).
   */
  networkTiming?: { link: string; rttMs: number; processingMs: number; why: string };
  /** Command sets to enable, in order; later sets override earlier commands of the same name. */
  commandSets: string[];
  /**
   * Commands of those sets that this module does not have (names as registered, e.g. `+CSQ`,
   * `+TCCERTADD`): they are not registered, so they answer as unknown commands. A set serves
   * several modules; a module's own build may lack some of its commands (say why in `notes`).
   */
  omitCommands?: string[];
  /** Vendor data for the command sets (limits, defaults, result codes), keyed by set id. */
  settings: Record<string, unknown>;
}
