/**
 * How the module prints its lines. The manual's examples are captures of the module, so their
 * spacing is followed line by line:
 *
 * - No space after the colon — the commands of V1.01/V1.02 and their URCs (`+IMQTTCONN:0`,
 *   `+IMQTTSUB:2,1`, `+IMQTTPUB:3,0`, `+IMQTTSTATE:2`, `+IMQTTMODE:2,0,0`,
 *   `+IMQTTPARA:TIMEOUT,1,…`, `+IMQTTUSER:name001,*****`, `+IMQTTADDR:203.156.205.55,1883`,
 *   `+IMQTTRECV:13771,"…"`, the registration result `+IMQTTDYNREG:1,"a1m8qO1ceKE",…`), and
 *   every line no example prints (shared/FACTS.md: YUGE modules answer `+IMQTTCONN:0`).
 *   The space in `+IMQTTLWT: will_topic` and `+IMQTTPUB: /a1R3d3WsBI0/…` (§2.5, §2.11) is the
 *   leading space of the argument the example typed (`AT+IMQTTLWT= will_topic,…`), not a separator.
 * - One space — the lines added later whose every printed example has it: `+IMQTTCOUNT: 10`
 *   (§2.19.3), `+IMQTTRECV: 10` (the count, §2.18), `+IMQTTRECVMODE: 1` (§2.17) and the saved
 *   triples `+IMQTTDYNREG: 1,"…","…","…"` listed by AT+IMQTTDYNREG=2 (all four listings in §2.16).
 *
 * Strings in read forms are printed unquoted, as every read example shows them
 * (`+IMQTTSUB:/a1R3d3WsBI0/test1/user/test,0`); received topics and payloads and the
 * AT+IMQTTDYNREG triples are quoted, as their examples show them.
 */
import type { Line } from '../../../at/types.js';

/** `+NAME:body` (no space). */
export const line = (name: string, body: string | number): string => `${name}:${body}`;

/** `+NAME: body` (the lines listed above). */
export const spacedLine = (name: string, body: string | number): string => `${name}: ${body}`;

/** `"text"` for the lines that quote their strings. */
export const quoted = (text: string): string => `"${text}"`;

/**
 * A received message as +IMQTTRCVPUB (§2.19.2) and AT+IMQTTRECV (§2.18) print it:
 * `<prefix>:<packetid>,"<topic>",<messageLen>,"<message>"` — the raw payload bytes between
 * quotes, <messageLen> in bytes.
 */
export function messageLine(prefix: string, packetId: number, topicAt: string, payload: Buffer): Line {
  return Buffer.concat([Buffer.from(`${prefix}:${packetId},"${topicAt}",${payload.length},"`, 'latin1'), payload, Buffer.from('"', 'latin1')]);
}
