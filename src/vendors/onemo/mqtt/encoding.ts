/**
 * Message encodings of AT+MQTTCFG="encoding" (manual §3.1 <input_format>, <output_format>):
 * input 0 ASCII string, 1 hex string, 2 escaped string ("转义字符串"); output 0 raw, 1 hex.
 * Input applies to AT+MQTTPUB's <message> and to <will_msg>; output to received payloads.
 */

export type InputFormat = 0 | 1 | 2;

/**
 * Escapes of input format 2. The manual names the format without listing its escapes; these are
 * the C ones firmware writes: \\ \" \r \n \t \0 and \xHH. Any other escape, or a lone backslash at
 * the end, is refused (601).
 */
const SIMPLE_ESCAPES: Record<string, number> = { '\\': 0x5c, '"': 0x22, r: 0x0d, n: 0x0a, t: 0x09, '0': 0x00 };

export function unescapeInput(raw: Buffer): Buffer | string {
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b !== 0x5c) {
      out.push(b);
      continue;
    }
    const next = raw[i + 1];
    if (next === undefined) return 'escaped input ends with a backslash';
    const c = String.fromCharCode(next);
    if (c in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[c]!);
      i += 1;
      continue;
    }
    if (c === 'x' || c === 'X') {
      const hex = raw.subarray(i + 2, i + 4).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return `bad \\x escape at byte ${i}`;
      out.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    return `unknown escape \\${c}`;
  }
  return Buffer.from(out);
}

/** Hex text (either case, even length) to bytes; a string is the reason it is not hex. */
export function hexInput(raw: Buffer): Buffer | string {
  const text = raw.toString('latin1');
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) return 'input is not an even-length hex string';
  return Buffer.from(text, 'hex');
}

/** Convert input as typed to the bytes to send, per <input_format>. */
export function decodeInput(raw: Buffer, format: InputFormat): Buffer | string {
  switch (format) {
    case 0:
      return raw;
    case 1:
      return hexInput(raw);
    case 2:
      return unescapeInput(raw);
  }
}

/**
 * How <msg_len> counts (§3.5): "当输入模式设置为Hex字符串时，消息长度为转换后的长度；设置为其他模式即表示
 * 原始输入的数据长度" — hex: bytes after conversion; ASCII and escaped: bytes as typed.
 */
export function inputLengthFor(msgLen: number, format: InputFormat): number {
  return format === 1 ? msgLen * 2 : msgLen;
}

/** Received payload as printed, per <output_format>: raw bytes or upper-case hex text. */
export function encodeOutput(payload: Buffer, output: 0 | 1): Buffer {
  return output === 1 ? Buffer.from(payload.toString('hex').toUpperCase(), 'latin1') : payload;
}

/**
 * Length of the PUBLISH packet as sent (AT+MQTTPUB <length>, "已发送MQTT报文长度"): fixed header
 * (1 byte + remaining-length varint) + topic (2 + bytes) + packet id when QoS > 0 + payload.
 * The manual's example: topic "world", 4-byte payload → 13 at QoS 0, 15 at QoS 1/2.
 */
export function publishPacketLength(topicBytes: number, payloadBytes: number, qos: 0 | 1 | 2): number {
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payloadBytes;
  let varint = 1;
  for (let n = remaining; n >= 128; n = Math.floor(n / 128)) varint += 1;
  return 1 + varint + remaining;
}
