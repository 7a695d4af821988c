/**
 * vmodem's dashboard (issue 11): one page on the control server. Per modem: the serial console,
 * a terminal, module state, the cloud side and faults. Talks only to the control API
 * (src/control/API.md) with the token from the URL fragment.
 */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, initialToken, saveToken, type About, type DemoStatus, type HostState, type ModemSummary, type VmEvent } from './api';
import { ModemStore } from './store';
import { SerialConsole } from './console';
import { AtTerminal } from './terminal';
import { StatePanel } from './state-panel';
import { CloudPanel } from './cloud';
import { FaultsPanel } from './faults';

function Login({ error, onToken }: { error?: string; onToken: (t: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <main class="login">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) onToken(value.trim());
        }}
        aria-labelledby="login-h"
      >
        <h1 id="login-h">
          <span class="logo">vmodem</span> dashboard
        </h1>
        <p>This dashboard needs the control token. Open the link that <code>vmodem start --ui</code> or <code>vmodem demo</code> printed, or paste the token here.</p>
        {error && <p class="error" role="alert">{error}</p>}
        <label>
          Control token
          <input type="password" name="token" autoComplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} autoFocus />
        </label>
        <button type="submit" class="primary">Open dashboard</button>
      </form>
    </main>
  );
}

function App() {
  const [token, setToken] = useState(initialToken());
  const [loginError, setLoginError] = useState<string>();
  const [modems, setModems] = useState<ModemSummary[]>();
  if (!token || !modems) {
    return (
      <Connect
        token={token}
        error={loginError}
        onModems={setModems}
        onFail={(msg) => {
          saveToken(undefined);
          setToken(undefined);
          setLoginError(msg);
        }}
        onToken={(t) => {
          saveToken(t);
          setLoginError(undefined);
          setToken(t);
        }}
      />
    );
  }
  return <Dashboard api={new Api(token)} modems={modems} />;
}

function Connect({ token, error, onModems, onFail, onToken }: { token?: string; error?: string; onModems: (m: ModemSummary[]) => void; onFail: (msg: string) => void; onToken: (t: string) => void }) {
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    if (!token) return;
    new Api(token)
      .call<{ modems: ModemSummary[] }>('GET', '/v1/modems')
      .then((r) => onModems(r.modems))
      .catch((err: ApiError) => (err.status === 401 ? onFail('That token is not the one this vmodem printed.') : setProblem(err.message)));
  }, [token]);
  if (!token) return <Login error={error} onToken={onToken} />;
  return <main class="login">{problem ? <p class="error" role="alert">{problem}</p> : <p>Connecting…</p>}</main>;
}

function useTick(ms: number): void {
  const [, set] = useState(0);
  useEffect(() => {
    const t = setInterval(() => set((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
}

function Dashboard({ api, modems }: { api: Api; modems: ModemSummary[] }) {
  const stores = useMemo(() => new Map(modems.map((m) => [m.name, new ModemStore(m.name)])), [modems]);
  const listeners = useRef(new Set<(e: VmEvent) => void>());
  const [selected, setSelected] = useState(modems[0]!.name);
  const [online, setOnline] = useState(false);
  const [inspect, setInspect] = useState<Record<string, any>>();
  const [about, setAbout] = useState<About>();
  const [host, setHost] = useState<HostState | null>(null);
  const [demo, setDemo] = useState<DemoStatus>();
  const selRef = useRef(selected);
  selRef.current = selected;
  useTick(300);

  useEffect(
    () =>
      api.events(
        (e) => {
          stores.get(e.modem)?.add(e);
          if (e.modem !== selRef.current) return;
          if (e.type === 'state' && e.what === 'host') setHost(e.detail as HostState);
          if (e.type === 'state' && e.what === 'demo') setDemo(e.detail as DemoStatus);
          for (const l of listeners.current) l(e);
        },
        setOnline,
      ),
    [api],
  );

  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const [i, a] = await Promise.all([api.modem(selected, '', 'GET'), api.modem(selected, 'about', 'GET') as Promise<unknown> as Promise<About>]);
        if (stop) return;
        setInspect(i);
        setAbout(a);
        setHost(a.host);
      } catch {
        /* shown by the connection pill */
      }
    };
    void poll();
    const t = setInterval(() => void poll(), 1000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [api, selected]);

  const store = stores.get(selected)!;
  const summary = modems.find((m) => m.name === selected)!;
  const subscribe = (fn: (e: VmEvent) => void) => {
    listeners.current.add(fn);
    return () => listeners.current.delete(fn);
  };
  const demoStatus = demo ?? (store.lastState.demo as DemoStatus | undefined);

  return (
    <div class="app">
      <header class="top">
        <h1>
          <span class="logo">vmodem</span> <span class="sub">{summary.module}</span>
        </h1>
        {modems.length > 1 && (
          <nav aria-label="Modems" class="tabs">
            {modems.map((m) => (
              <button type="button" key={m.name} aria-current={m.name === selected ? 'page' : undefined} onClick={() => setSelected(m.name)}>
                {m.name}
              </button>
            ))}
          </nav>
        )}
        <span class="mono muted">{summary.profile} · {summary.link ?? summary.device}</span>
        <span class={`pill ${online ? 'ok' : 'bad'}`} role="status">{online ? 'live' : 'disconnected'}</span>
      </header>
      <main class="grid">
        <div class="col-main">
          <SerialConsole store={store} api={api} modem={selected} profile={summary.profile} echo={inspect?.serial?.echo} key={`c-${selected}`} />
          <AtTerminal api={api} modem={selected} host={host} subscribe={subscribe} demo={Boolean(demoStatus)} key={`t-${selected}`} />
        </div>
        <div class="col-side">
          <StatePanel about={about} inspect={inspect} demo={demoStatus} />
          <CloudPanel store={store} api={api} modem={selected} about={about} inspect={inspect} defaultTopic={demoStatus?.topics.command} />
          <FaultsPanel api={api} modem={selected} inspect={inspect} />
        </div>
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
