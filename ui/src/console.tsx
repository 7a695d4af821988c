/** The live serial console: every byte each way, styled by what it was. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from './api';
import { download } from './api';
import type { Entry, EntryKind, ModemStore } from './store';

const LABEL: Record<EntryKind, string> = {
  host: 'host',
  data: 'data',
  echo: 'echo',
  response: 'resp',
  urc: 'URC',
  prompt: 'prompt',
  inject: 'inject',
  event: 'ctl',
};

/** Control characters made visible: CR and LF as symbols, others as <XX>. */
function visible(text: string): (string | preact.JSX.Element)[] {
  const out: (string | preact.JSX.Element)[] = [];
  let run = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c !== 0x7f && c < 0x80) {
      run += text[i];
      continue;
    }
    if (run) out.push(run);
    run = '';
    const label = c === 0x0d ? 'CR' : c === 0x0a ? 'LF' : c === 0x1a ? '^Z' : c === 0x1b ? 'ESC' : c === 0x09 ? 'TAB' : `<${c.toString(16).padStart(2, '0').toUpperCase()}>`;
    out.push(
      <span class="ctl" key={i}>
        {label}
      </span>,
    );
  }
  if (run) out.push(run);
  return out;
}

function hexOf(hex: string): string {
  return hex.replace(/(..)/g, '$1 ').trim();
}

function time(t: number): string {
  const s = t / 1000;
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${(s - m * 60).toFixed(3).padStart(6, '0')}`;
}

export function SerialConsole({ store, api, modem, profile, echo }: { store: ModemStore; api: Api; modem: string; profile: string; echo?: boolean }) {
  const [query, setQuery] = useState('');
  const [hex, setHex] = useState(false);
  const [paused, setPaused] = useState<Entry[] | undefined>(undefined);
  const [error, setError] = useState('');
  const box = useRef<HTMLDivElement>(null);
  const live = store.entries;
  const shown = paused ?? live;
  const filtered = useMemo(() => {
    const q = query.toLowerCase();
    const list = q ? shown.filter((e) => e.text.toLowerCase().includes(q) || e.hex.includes(q.replace(/\s+/g, ''))) : shown;
    return list.slice(-800);
  }, [shown, shown.length, query, live.length]);

  useEffect(() => {
    const el = box.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  });

  const exportAt = async () => {
    setError('');
    try {
      const r = await api.call<{ transcript: string }>('POST', '/v1/transcript', { recording: store.recording(profile, echo) });
      download(`${modem}.at`, r.transcript, 'text/plain');
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <section class="panel console" aria-labelledby="console-h">
      <header>
        <h2 id="console-h">Serial console</h2>
        <div class="tools">
          <label class="search">
            <span class="sr">Search the console</span>
            <input type="search" placeholder="Search…" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          </label>
          <label class="check">
            <input type="checkbox" checked={hex} onChange={(e) => setHex(e.currentTarget.checked)} /> Hex
          </label>
          <button type="button" aria-pressed={Boolean(paused)} onClick={() => setPaused(paused ? undefined : live.slice())}>
            {paused ? `Resume (${Math.max(0, live.length - paused.length)} new)` : 'Pause'}
          </button>
          <button type="button" onClick={() => { store.clearConsole(); setPaused(undefined); }}>Clear</button>
          <button type="button" onClick={() => download(`${modem}.jsonl`, store.recording(profile, echo), 'application/x-ndjson')}>Export .jsonl</button>
          <button type="button" onClick={() => void exportAt()}>Export .at</button>
        </div>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="log" ref={box} role="log" aria-live="off" aria-label="Serial traffic" tabIndex={0}>
        {filtered.length === 0 && <p class="empty">Nothing on the serial port yet. Type <code>AT</code> in the terminal below, or start a firmware on the port.</p>}
        {filtered.map((e) => (
          <div class={`row k-${e.kind}`} key={e.id} data-kind={e.kind}>
            <span class="t">{time(e.t)}</span>
            <span class="dir" aria-hidden="true">{e.kind === 'event' ? '⚡' : e.kind === 'host' || e.kind === 'data' ? '→' : '←'}</span>
            <span class="kind">{LABEL[e.kind]}</span>
            <span class="text">{visible(e.text)}</span>
            {hex && e.hex && <span class="hex">{hexOf(e.hex)}</span>}
          </div>
        ))}
      </div>
    </section>
  );
}
