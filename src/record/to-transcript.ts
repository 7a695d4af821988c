/**
 * A recording (.jsonl) as a transcript (.at): the host's bytes become `>`/`>>` lines, the
 * modem's output `<` lines (tokenized exactly as the transcript runner does), the device's
 * publishes `! expect-publish` and what the cloud sent it `! publish`. A firmware's real
 * conversation recorded with `--record` can then be pinned as a golden transcript.
 */
import { loadProfile } from '../profiles/load-profile.js';
import { escapeBytes, formatPayload, formatTopic, OutputTokenizer } from '../transcript/transcript.js';
import { bytesOf, readRecording, type NumberedRecord, type StartRecord } from './format.js';

export interface ConvertedRecording {
  /** The transcript text. */
  text: string;
  /** For each transcript line (index = line number − 1), the recording line it came from. */
  origins: (number | undefined)[];
  /** The profile the recording names (also written as `@profile`). */
  profile?: string;
}

const CR = 0x0d;
const LF = 0x0a;

function isPlainAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function reEscape(text: string, atStart: boolean, atEnd: boolean): string {
  let re = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const code = c.charCodeAt(0);
    const edge = (i === 0 && atStart) || (i === text.length - 1 && atEnd);
    if (/[\\^$.*+?()[\]{}|]/.test(c)) re += `\\${c}`;
    else if (code < 0x20 || code > 0x7e || (c === ' ' && edge)) re += `\\x${code.toString(16).padStart(2, '0')}`;
    else re += c;
  }
  return re;
}

/**
 * The `<`/`<~` line that matches one output token exactly; with `wildcard`, the characters in
 * [start, end) match any decimal number instead (a packet id the broker chose).
 */
export function expectLine(token: string, wildcard?: { start: number; end: number }): string {
  if (!wildcard) {
    if (isPlainAscii(token) && !/^\s|\s$/.test(token)) return `< ${token}`;
    return `<~ ^${reEscape(token, true, true)}$`;
  }
  const before = token.slice(0, wildcard.start);
  const after = token.slice(wildcard.end);
  return `<~ ^${reEscape(before, true, false)}\\d+${reEscape(after, false, true)}$`;
}

/**
 * Where a received message's packet id shows in a URC: a whole decimal field (after `:`, `,` or
 * a space, before `,` or the end) of a line that also names the topic.
 */
function packetIdSpan(token: string, id: number, topic: string): { start: number; end: number } | undefined {
  if (!token.includes(Buffer.from(topic, 'utf8').toString('latin1'))) return undefined;
  const m = new RegExp(`(?<=[:, ])${id}(?=,|$)`).exec(token);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

/** The `>`/`>>` line that sends exactly these bytes. */
function sendLine(bytes: Buffer, eol: '\r' | '\r\n'): string {
  const text = bytes.toString('latin1');
  if (text.endsWith(eol)) {
    const body = text.slice(0, -eol.length);
    // A CR inside (or an LF right after, for @eol cr) would be read as another line.
    if (isPlainAscii(body) && !/\s$/.test(body) && !(eol === '\r' && body.endsWith('\r'))) return `> ${body}`;
  }
  return `>> ${escapeBytes(bytes)}`;
}

function detectEol(records: NumberedRecord[]): '\r' | '\r\n' {
  const input = Buffer.concat(records.filter((r) => r.type === 'in').map((r) => bytesOf(r as { hex?: string; text?: string })));
  let crlf = 0;
  let cr = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== CR) continue;
    if (input[i + 1] === LF) crlf++;
    else cr++;
  }
  return crlf > cr ? '\r\n' : '\r';
}

function bootUrcs(profile: string | undefined): string[] {
  if (!profile) return [];
  try {
    return (loadProfile(profile).settings.boot as { urcs?: string[] } | undefined)?.urcs ?? [];
  } catch {
    return [];
  }
}

export function convertRecording(jsonl: string): ConvertedRecording {
  const records = readRecording(jsonl);
  const start = records.find((r): r is StartRecord & { lineNo: number } => r.type === 'start');
  const attach = records.find((r) => r.type === 'attach') as { echo?: boolean } | undefined;
  const echo = start?.echo ?? attach?.echo ?? false;
  const profile = typeof start?.profile === 'string' ? start.profile : undefined;
  const eol = detectEol(records);
  const hasLinkRecords = records.some((r) => r.type === 'mqtt');

  const lines: string[] = [];
  const origins: (number | undefined)[] = [];
  const emit = (text: string, origin?: number) => {
    lines.push(text);
    origins.push(origin);
  };

  emit('# Converted from a vmodem recording' + (start ? ` made ${start.time} (vmodem ${start.vmodem}, node ${start.node})` : '') + '.', start?.lineNo);
  emit('# Sends go as soon as the lines before them have been seen; timing is not replayed.');
  if (profile) emit(`@profile ${profile}`, start?.lineNo);
  if (echo) emit('@echo on', start?.lineNo);
  if (eol === '\r\n') emit('@eol crlf');
  if (start?.timing === 'real') emit('@timing real', start.lineNo);

  // Boot URCs printed before the host sent anything: a fresh modem prints them with @boot on.
  const boot = bootUrcs(profile);
  if (boot.length > 0) {
    const firstIn = records.findIndex((r) => r.type === 'in');
    const before = records.slice(0, firstIn < 0 ? records.length : firstIn).filter((r) => r.type === 'out');
    const tk = new OutputTokenizer();
    const tokens = before.flatMap((r) => tk.push(bytesOf(r as { hex?: string })));
    if (boot.every((u, i) => tokens[i] === u)) emit('@boot on');
  }
  emit('');

  const tokenizer = new OutputTokenizer();
  let pending = Buffer.alloc(0);
  let pendingOrigin: number | undefined;
  let data: Buffer[] = [];
  let dataOrigin: number | undefined;
  let dataMode = false;
  const own: { topic: string; payload: string }[] = [];
  /** Messages the device received with a broker-chosen packet id, not yet seen in a URC. */
  const received: { id: number; topic: string }[] = [];

  const flushPending = () => {
    if (pending.length > 0) emit(sendLine(pending, eol), pendingOrigin);
    pending = Buffer.alloc(0);
    pendingOrigin = undefined;
  };
  const flushData = () => {
    if (data.length > 0) emit(`>> ${escapeBytes(Buffer.concat(data))}`, dataOrigin);
    data = [];
    dataOrigin = undefined;
  };
  const flushInput = () => {
    flushPending();
    flushData();
  };
  /** Emit every complete command line held in `pending`. */
  const splitLines = (origin: number) => {
    for (;;) {
      let idx = -1;
      for (let i = 0; i < pending.length; i++) {
        if (pending[i] === CR || pending[i] === LF) {
          idx = i;
          break;
        }
      }
      if (idx < 0) return;
      let end = idx + 1;
      if (pending[idx] === CR) {
        if (pending[idx + 1] === LF) end = idx + 2;
        else if (idx + 1 === pending.length && eol === '\r\n') return; // its LF may come next
      }
      emit(sendLine(pending.subarray(0, end), eol), pendingOrigin ?? origin);
      pending = pending.subarray(end);
      pendingOrigin = pending.length > 0 ? origin : undefined;
    }
  };

  const payloadOf = (r: Record<string, unknown>) => bytesOf((r.payload ?? {}) as { hex?: string; text?: string });

  for (const r of records) {
    switch (r.type) {
      case 'in': {
        const bytes = bytesOf(r);
        if (dataMode) {
          dataOrigin ??= r.lineNo;
          data.push(bytes);
        } else {
          pendingOrigin ??= r.lineNo;
          pending = Buffer.concat([pending, bytes]);
          splitLines(r.lineNo);
        }
        break;
      }
      case 'out': {
        if (r.kind !== 'echo') {
          flushPending();
          if (dataMode) {
            flushData();
            dataMode = false;
          }
        }
        for (const token of tokenizer.push(bytesOf(r))) {
          // The broker picks the packet id of a QoS 1/2 delivery: a replay gets another one.
          const i = r.kind === 'urc' ? received.findIndex((m) => packetIdSpan(token, m.id, m.topic)) : -1;
          if (i >= 0) {
            const m = received.splice(i, 1)[0]!;
            emit(expectLine(token, packetIdSpan(token, m.id, m.topic)), r.lineNo);
          } else emit(expectLine(token), r.lineNo);
        }
        if (r.kind === 'prompt') dataMode = true;
        break;
      }
      case 'mqtt': {
        if (r.packet === 'publish' && r.dir === 'out') {
          flushInput();
          const payload = payloadOf(r);
          own.push({ topic: String(r.topic), payload: payload.toString('hex') });
          emit(`! expect-publish ${formatTopic(String(r.topic))} ${formatPayload(payload)}`, r.lineNo);
        } else if (r.packet === 'publish' && r.dir === 'in') {
          const payload = payloadOf(r);
          if (Number(r.messageId) > 0) received.push({ id: Number(r.messageId), topic: String(r.topic) });
          const i = own.findIndex((o) => o.topic === r.topic && o.payload === payload.toString('hex'));
          if (i >= 0) {
            own.splice(i, 1); // the device's own publish, delivered back to its subscription
            break;
          }
          flushInput();
          emit(`! publish ${formatTopic(String(r.topic))} ${formatPayload(payload)} ${Number(r.qos ?? 0)} ${r.retain ? 1 : 0}`, r.lineNo);
        } else if (r.event === 'close' && r.reason !== 'local' && r.reason !== 'disconnected') {
          emit(`# MQTT link ${String(r.link)} closed (${String(r.reason)}): a fault a transcript cannot replay`, r.lineNo);
        }
        break;
      }
      case 'broker': {
        if (hasLinkRecords || r.event !== 'publish') break;
        // Only the broker's view was recorded: client publishes are the device's, the rest the cloud's.
        const payload = payloadOf(r);
        flushInput();
        if (r.clientId === null) emit(`! publish ${formatTopic(String(r.topic))} ${formatPayload(payload)} ${Number(r.qos ?? 0)} ${r.retain ? 1 : 0}`, r.lineNo);
        else emit(`! expect-publish ${formatTopic(String(r.topic))} ${formatPayload(payload)}`, r.lineNo);
        break;
      }
      case 'event': {
        const { type: _t, t: _time, name, lineNo: _l, ...rest } = r;
        emit(`# event ${name}${Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : ''}`, r.lineNo);
        break;
      }
      default:
        break;
    }
  }
  flushInput();
  if (tokenizer.pending !== '') emit(`# the recording ends inside a line the modem was printing: ${JSON.stringify(tokenizer.pending)}`);
  return { text: `${lines.join('\n')}\n`, origins, ...(profile ? { profile } : {}) };
}

/** The transcript (.at text) for a recording (.jsonl text). */
export function recordingToTranscript(jsonl: string): string {
  return convertRecording(jsonl).text;
}
