/**
 * An xterm.js terminal on the modem's port: it shows what the modem prints, and what is typed
 * goes to the modem as host input (POST …/host-input, in order, batched while one is in flight).
 * Read-only while a firmware holds the port, unless taken over.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { Api, HostState, VmEvent } from './api';
import { hexBytes } from './api';

export function AtTerminal({ api, modem, host, subscribe, demo }: { api: Api; modem: string; host: HostState | null; subscribe: (fn: (e: VmEvent) => void) => () => void; demo: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | undefined>(undefined);
  const writable = !host || host.takenOver || !host.watched || !host.open;
  const writableRef = useRef(writable);
  writableRef.current = writable;
  const [error, setError] = useState('');

  useEffect(() => {
    const t = new Terminal({
      convertEol: false,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      rows: 12,
      scrollback: 2000,
      theme: { background: '#0b1016', foreground: '#d7e0ea', cursor: '#59c2ff' },
      screenReaderMode: false,
    });
    const fit = new FitAddon();
    t.loadAddon(fit);
    t.open(el.current!);
    t.textarea?.setAttribute('aria-label', `AT terminal of ${modem}`);
    fit.fit();
    term.current = t;
    const onResize = () => fit.fit();
    window.addEventListener('resize', onResize);

    // Typed bytes, in order: one request at a time, what was typed meanwhile goes next.
    let queue = '';
    let sending = false;
    const pump = async () => {
      if (sending || !queue) return;
      sending = true;
      const text = queue;
      queue = '';
      try {
        await api.modem(modem, 'host-input', 'POST', { text });
        setError('');
      } catch (err) {
        setError((err as Error).message);
      }
      sending = false;
      void pump();
    };
    const input = t.onData((d) => {
      if (!writableRef.current) return;
      queue += d;
      void pump();
    });
    const off = subscribe((e) => {
      if (e.type !== 'serial' || e.dir !== 'out') return;
      t.write(hexBytes(e.hex));
    });
    return () => {
      off();
      input.dispose();
      window.removeEventListener('resize', onResize);
      t.dispose();
    };
  }, [modem]);

  useEffect(() => {
    const t = term.current;
    if (!t) return;
    t.options.disableStdin = !writable;
    t.options.cursorBlink = writable;
  }, [writable]);

  const take = async (on: boolean) => {
    try {
      await api.modem(modem, 'takeover', 'POST', { on });
      setError('');
      if (on) term.current?.focus();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const held = host?.watched && host.open && !host.takenOver;
  return (
    <section class="panel terminal" aria-labelledby="term-h">
      <header>
        <h2 id="term-h">Terminal</h2>
        <div class="tools">
          <span class={`pill ${writable ? 'ok' : 'warn'}`} role="status">
            {host?.takenOver ? 'taken over: you type, the firmware waits' : held ? 'read-only: a firmware holds the port' : 'type AT commands'}
          </span>
          {host?.takenOver ? (
            <button type="button" onClick={() => void take(false)}>{demo ? 'Hand back to the demo firmware' : 'Hand back to the firmware'}</button>
          ) : (
            <button type="button" onClick={() => void take(true)} disabled={!host}>Take over terminal</button>
          )}
        </div>
      </header>
      {error && <p class="error" role="alert">{error}</p>}
      <div class={`xterm-box ${writable ? '' : 'readonly'}`} ref={el} onClick={() => term.current?.focus()} />
    </section>
  );
}
