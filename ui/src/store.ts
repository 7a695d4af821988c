/**
 * What the page keeps per modem, fed by the event stream: console entries, the raw serial
 * events (for export), the topics that passed the broker and the message rate. Components
 * re-render on a throttled tick rather than on every event.
 */
import { hexBytes, type VmEvent } from './api';

export type EntryKind = 'host' | 'data' | 'echo' | 'response' | 'urc' | 'prompt' | 'inject' | 'event';

export interface Entry {
  id: number;
  t: number;
  kind: EntryKind;
  hex: string;
  text: string;
}

export interface TopicInfo {
  topic: string;
  count: number;
  lastHex: string;
  lastDir: 'up' | 'down';
  lastQos: number;
  lastT: number;
  retain: boolean;
}

const MAX_ENTRIES = 5000;
const MAX_RAW = 20000;
/** Seconds of message rate the sparkline shows. */
export const RATE_WINDOW = 60;

let nextId = 1;

export class ModemStore {
  entries: Entry[] = [];
  raw: VmEvent[] = [];
  topics = new Map<string, TopicInfo>();
  /** Messages per second, up and down: [second, up, down]. */
  rate: { sec: number; up: number; down: number }[] = [];
  lastState: Record<string, unknown> = {};
  /** A data prompt was printed and no result followed yet: host bytes are a data payload. */
  private inData = false;

  constructor(readonly name: string) {}

  clearConsole(): void {
    this.entries = [];
    this.raw = [];
  }

  add(e: VmEvent): void {
    if (e.type === 'serial') {
      this.raw.push(e);
      if (this.raw.length > MAX_RAW) this.raw.shift();
      let kind: EntryKind;
      if (e.dir === 'in') kind = this.inData ? 'data' : 'host';
      else kind = (e.kind as EntryKind | undefined) ?? 'response';
      if (e.dir === 'out') {
        if (kind === 'prompt') this.inData = true;
        else if (kind === 'response') this.inData = false;
      }
      // Typing arrives a byte at a time, each byte echoed: one host entry and one echo entry per
      // line, the two interleaved chunk streams joined (looking back past the other one).
      if (kind === 'host' || kind === 'echo') {
        const n = this.entries.length;
        for (const prev of [this.entries[n - 1], this.entries[n - 2]]) {
          if (!prev || (prev.kind !== 'host' && prev.kind !== 'echo')) break;
          if (prev.kind !== kind) continue;
          if (/0d$|0a$/.test(prev.hex) || e.t - prev.t > 5000) break;
          prev.hex += e.hex;
          prev.text += e.text;
          return;
        }
      }
      this.push({ id: nextId++, t: e.t, kind, hex: e.hex, text: e.text });
    } else if (e.type === 'state') {
      if (e.what === 'demo' || e.what === 'host') {
        this.lastState[e.what] = e.detail;
        return;
      }
      this.lastState[e.what] = e.detail;
      const detail = e.detail === undefined ? '' : ` ${JSON.stringify(e.detail)}`;
      this.push({ id: nextId++, t: e.t, kind: 'event', hex: '', text: `${e.what}${detail}` });
    } else if (e.type === 'mqtt' && e.cmd === 'publish' && e.topic !== undefined) {
      const prev = this.topics.get(e.topic);
      this.topics.set(e.topic, {
        topic: e.topic,
        count: (prev?.count ?? 0) + 1,
        lastHex: e.payloadHex ?? '',
        lastDir: e.dir,
        lastQos: e.qos ?? 0,
        lastT: e.t,
        retain: Boolean(e.retain),
      });
      const sec = Math.floor(Date.now() / 1000);
      let slot = this.rate[this.rate.length - 1];
      if (!slot || slot.sec !== sec) {
        slot = { sec, up: 0, down: 0 };
        this.rate.push(slot);
        while (this.rate.length > 0 && this.rate[0]!.sec <= sec - RATE_WINDOW) this.rate.shift();
      }
      slot[e.dir]++;
    }
  }

  private push(entry: Entry): void {
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /**
   * The console as a recording (src/record/FORMAT.md): a start record, then the bytes each way
   * with what they were and the URC lines — `vmodem check` replays it, and the server turns it
   * into a transcript.
   */
  recording(profile: string, echo: boolean | undefined): string {
    const t0 = this.raw[0]?.t ?? 0;
    const lines = [
      JSON.stringify({ type: 'start', t: 0, time: new Date().toISOString(), format: 1, vmodem: 'dashboard', node: 'browser', profile, ...(echo !== undefined ? { echo } : {}) }),
    ];
    for (const e of this.raw) {
      if (e.type !== 'serial') continue;
      const t = Math.max(0, e.t - t0);
      const bytes = hexBytes(e.hex);
      const printable = bytes.every((b) => (b >= 0x20 && b <= 0x7e) || b >= 0xa0 || b === 9 || b === 10 || b === 13);
      const body = printable ? { text: e.text, hex: e.hex } : { hex: e.hex };
      if (e.dir === 'in') lines.push(JSON.stringify({ type: 'in', t, ...body }));
      else if (e.kind !== 'inject') {
        lines.push(JSON.stringify({ type: 'out', t, kind: e.kind ?? 'response', ...body }));
        if (e.kind === 'urc') for (const l of e.text.split('\r\n').filter(Boolean)) lines.push(JSON.stringify({ type: 'urc', t, line: l }));
      }
    }
    lines.push(JSON.stringify({ type: 'stop', t: Math.max(0, (this.raw[this.raw.length - 1]?.t ?? t0) - t0) }));
    return `${lines.join('\n')}\n`;
  }
}
