/**
 * The engine hands arguments over byte for byte (each byte one latin1 character) and writes
 * latin1 strings back as the same bytes. Texts that are UTF-8 on the wire — MQTT topics, client
 * ids, names [MQTT-1.5.3] — cross that boundary through these two functions.
 */

/** The bytes the firmware typed, read as UTF-8. */
export function textFromAt(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

/** UTF-8 text as the bytes the engine writes to the host. */
export function textToAt(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}
