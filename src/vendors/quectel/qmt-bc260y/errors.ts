/**
 * Errors of the BC260Y QMT commands (manual chapter 4, table 2). Every command documents
 * "ERROR 或 +CME ERROR: <err>": handlers return the code of the cause and the engine renders it
 * per AT+CMEE (0 → ERROR, 1 → +CME ERROR: <n>, 2 → the profile's text).
 *
 * Which cause answers which fault (the manual lists the codes, not when each occurs):
 * - 8503 link error: the command needs an open network / MQTT connection that is not there, or
 *   the connection went away while data-mode input was being typed.
 * - 8505 illegal character: a wildcard in a topic name (PUBLISH, will) or misplaced in a topic
 *   filter [MQTT-4.7.1-2/3], U+0000 in a topic [MQTT-1.5.3-2], non-hex input with
 *   <send_format> 1.
 * - 8506 illegal UTF8: a topic, client id, user name or Aliyun string whose bytes are not UTF-8
 *   [MQTT-1.5.3-1] (a password is binary data and may hold any bytes).
 * - 8507 invalid parameter: arity, type, range or length of any argument; an unknown AT+QMTCFG
 *   option; <msgid> against <qos> (§3.3.8); <msg> not <msglen> bytes long.
 * - 8508 exceeds remaining buffer: AT+QMTPUB while the previous publish still waits for its
 *   final result (§3.3.8 note 1: one message at a time).
 * - 8600 unknown error: data mode left after 60 s without data (§3.3.8 note 3).
 */
import type { DecodedOf, ParamSpec } from '../../../at/decode-args.js';
import { error, type CommandContext, type ErrorOutcome, type Outcome } from '../../../at/types.js';
import { withArgs, type RequiredIntParam } from '../../common/decode.js';
import type { Bc260yContext, Bc260yErrorCause } from './data.js';

export function failWith(q: Bc260yContext, cause: Bc260yErrorCause, reason: string): ErrorOutcome {
  return error(q.data.errors[cause], reason);
}

/** A fault found while checking arguments: the cause decides the code. */
export interface Fault {
  cause: Bc260yErrorCause;
  reason: string;
}

export const isFault = (v: unknown): v is Fault => typeof v === 'object' && v !== null && 'cause' in v && 'reason' in v;

/** Any decoding problem is 8507 "MQTT invalid parameter". */
export const invalidParameter =
  (q: Bc260yContext) =>
  (problem: string): ErrorOutcome =>
    failWith(q, 'invalidParameter', problem);

/**
 * Decode with the BC260Y rule (8507). A parameter list written in place types `run`'s values
 * (see DecodedOf).
 */
export function bcArgs<const Ps extends readonly ParamSpec[]>(
  q: Bc260yContext,
  ctx: CommandContext,
  params: Ps,
  run: (values: DecodedOf<Ps>) => Outcome | Promise<Outcome>,
): Outcome | Promise<Outcome> {
  return withArgs(ctx, params, run, invalidParameter(q));
}

/** <TCP_connectID>: 0–4 (§3.3.1–§3.3.8). */
export function connectIdParam(q: Bc260yContext): RequiredIntParam {
  return { name: 'TCP_connectID', type: 'int', min: 0, max: q.data.maxClientIdx };
}

/** `(0-4)` for test-command responses. */
export function connectIdRange(q: Bc260yContext): string {
  return `(0-${q.data.maxClientIdx})`;
}
