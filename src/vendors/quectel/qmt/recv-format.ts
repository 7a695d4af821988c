/**
 * +QMTRECV formats (EC200 manual §4.2, §3.3.9):
 *   recv/mode 0:  +QMTRECV: <client_idx>,<msgid>,"<topic>"[,<payload_len>],"<payload>"
 *   recv/mode 1:  +QMTRECV: <client_idx>,<recv_id>[,<payload_len>]   (stored; read with AT+QMTRECV)
 * <payload_len> appears when recv/mode <msg_len_enable> is 1; the payload is hex text when
 * dataformat <recv_mode> is 1. The manual's §5.1 shows the payload quoted; the payload bytes are
 * written as they arrived (binary passes through unchanged), so <payload_len> is the byte count.
 */
import type { QmtClientConfig } from './client-config.js';

export function formatRecv(
  idx: number,
  m: { msgid: number; topic: string; payload: Buffer },
  cfg: QmtClientConfig,
): Buffer {
  const hex = cfg.dataformat.recv === 1;
  const body = hex ? Buffer.from(m.payload.toString('hex').toUpperCase(), 'latin1') : m.payload;
  const len = cfg.recv.lenEnable === 1 ? `,${m.payload.length}` : '';
  return Buffer.concat([
    Buffer.from(`+QMTRECV: ${idx},${m.msgid},"`, 'latin1'),
    Buffer.from(m.topic, 'utf8'),
    Buffer.from(`"${len},"`, 'latin1'),
    body,
    Buffer.from('"', 'latin1'),
  ]);
}

export function formatRecvNotice(idx: number, recvId: number, m: { payload: Buffer }, cfg: QmtClientConfig): string {
  return cfg.recv.lenEnable === 1 ? `+QMTRECV: ${idx},${recvId},${m.payload.length}` : `+QMTRECV: ${idx},${recvId}`;
}
