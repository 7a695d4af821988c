/**
 * Received-message URCs (manual §3.9 "MQTT URC信息上报"):
 *   +MQTTURC: "publish",<connect_id>,<mid>,<topic>,<total_len>,<payload_len>,<payload>
 *   +MQTTURC: "pubnmi",<connect_id>,<mid>,<data_len>          (cached mode)
 *   +MQTTREAD: <connect_id>,<mid>,<topic>,<payload_len>,<payload>  (AT+MQTTREAD, §3.6)
 * The topic is quoted, the payload is not (§4.1.1: `"world",5,5,12345`; §4.1.2: `11,hello world`).
 * The payload is printed per <output_format>; the lengths count payload bytes (hex output prints
 * two characters per byte, as drivers decode it: a chunk's decoded bytes add up to <total_len>).
 *
 * §3.9 note: "ML302A/ML305A/ML307A/ML307R模组publish的URC中topic+msg总长度超过512字节会进行分包" —
 * when topic + printed payload exceed 512 bytes the message goes out in several "publish" URCs,
 * each with the same <total_len> and its own <payload_len>, printed part no longer than
 * 512 − topic bytes (at least one payload byte each; whole bytes in hex).
 */
import { textToAt } from './args.js';
import { encodeOutput } from './encoding.js';

export interface ReceivedMessage {
  mid: number;
  topic: string;
  payload: Buffer;
}

export function formatPublishUrcs(id: number, m: ReceivedMessage, output: 0 | 1, splitAt: number): Buffer[] {
  const topic = textToAt(m.topic);
  const topicBytes = Buffer.byteLength(topic, 'latin1');
  const charsPerByte = output === 1 ? 2 : 1;
  const room = Math.max(1, Math.floor((splitAt - topicBytes) / charsPerByte));
  const total = m.payload.length;
  const chunks: Buffer[] = [];
  if (total === 0) chunks.push(Buffer.alloc(0));
  for (let off = 0; off < total; off += room) chunks.push(m.payload.subarray(off, off + room));
  return chunks.map((chunk) =>
    Buffer.concat([
      Buffer.from(`+MQTTURC: "publish",${id},${m.mid},"${topic}",${total},${chunk.length},`, 'latin1'),
      encodeOutput(chunk, output),
    ]),
  );
}

export function formatReadLine(id: number, m: ReceivedMessage, output: 0 | 1): Buffer {
  return Buffer.concat([
    Buffer.from(`+MQTTREAD: ${id},${m.mid},"${textToAt(m.topic)}",${m.payload.length},`, 'latin1'),
    encodeOutput(m.payload, output),
  ]);
}
