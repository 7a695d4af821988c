/** Faults as labelled buttons and sliders: one control per control-API operation. */
import { useState } from 'preact/hooks';
import type { Api } from './api';
import { bytesToBase64 } from './api';

type RegState = 'home' | 'roaming' | 'denied' | 'none';
/** 27.007 <stat> → the registration-state the control API takes. */
const REG_STATE: Record<number, RegState> = { 0: 'none', 1: 'home', 2: 'none', 3: 'denied', 5: 'roaming' };

export function FaultsPanel({ api, modem, inspect }: { api: Api; modem: string; inspect?: Record<string, any> }) {
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const [code, setCode] = useState(5);
  const [openFault, setOpenFault] = useState('dns');
  const [rssi, setRssi] = useState<number>();
  const [latency, setLatency] = useState<number>();
  const [delay, setDelay] = useState<number>();
  const [version, setVersion] = useState('2.0.0');
  const [reg, setReg] = useState<RegState>();
  // 24.301 EMM cause 15 "no suitable cells in tracking area": the API's default for denied.
  const [cause, setCause] = useState(15);
  const [cid, setCid] = useState<number>();
  const [wifiRssi, setWifiRssi] = useState<number>();
  const faults = inspect?.faults ?? {};
  const net = inspect?.network ?? {};
  // Until a choice is made the selector shows what the network grants now (searching counts as none).
  const shownReg: RegState = reg ?? REG_STATE[net.regStat as number] ?? 'none';
  const simIn = net.sim !== false;
  const active = ((net.contexts ?? []) as { cid: number; active: boolean }[]).filter((c) => c.active);
  const shownCid = active.find((c) => c.cid === cid)?.cid ?? active[0]?.cid;
  // null on modems without Wi-Fi (inspect()): their access-point controls are not shown.
  const wifi = inspect?.wifi as { apPresent: boolean; rssi: number } | null | undefined;
  const shownWifiRssi = wifiRssi ?? wifi?.rssi ?? -50;

  const run = async (label: string, op: string, body?: unknown, method: 'POST' | 'DELETE' = 'POST') => {
    try {
      const r = await api.modem(modem, op, method, body ?? {});
      const extra = Object.entries(r).filter(([k]) => k !== 'ok').map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');
      setMsg({ ok: true, text: `${label}: done${extra ? ` (${extra})` : ''}` });
    } catch (err) {
      setMsg({ ok: false, text: `${label}: ${(err as Error).message}` });
    }
  };

  const ota = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem('image') as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return setMsg({ ok: false, text: 'OTA push: choose a firmware image first' });
    const bytes = new Uint8Array(await file.arrayBuffer());
    await run('OTA push', 'firmware', { version, name: file.name.replace(/[^\w.+-]/g, '_'), base64: bytesToBase64(bytes) });
  };

  const shownRssi = rssi ?? net.rssi ?? 24;
  const shownLatency = latency ?? faults.latencyMs ?? 0;
  const shownDelay = delay ?? inspect?.serial?.responseDelayMs ?? 0;
  return (
    <section class="panel faults" aria-labelledby="faults-h">
      <header>
        <h2 id="faults-h">Faults</h2>
      </header>
      <h3>Broker</h3>
      <div class="buttons">
        <button type="button" class="danger" onClick={() => void run('Drop session', 'drop')}>Drop session</button>
        <button type="button" aria-pressed={Boolean(faults.stalled)} onClick={() => void run(faults.stalled ? 'End stall' : 'Stall', 'stall', { on: !faults.stalled })}>
          {faults.stalled ? 'End stall' : 'Stall broker'}
        </button>
        <button type="button" aria-pressed={Boolean(faults.down)} onClick={() => void run(faults.down ? 'Broker up' : 'Broker down', 'broker', { up: Boolean(faults.down) })}>
          {faults.down ? 'Broker up' : 'Broker down'}
        </button>
      </div>
      <div class="row-inline">
        <label>
          CONNACK code
          <select value={code} onChange={(e) => setCode(Number(e.currentTarget.value))}>
            <option value={1}>1 unacceptable protocol</option>
            <option value={2}>2 identifier rejected</option>
            <option value={3}>3 server unavailable</option>
            <option value={4}>4 bad user name or password</option>
            <option value={5}>5 not authorized</option>
          </select>
        </label>
        <button type="button" onClick={() => void run('Refuse next connect', 'refuse-connect', { returnCode: code })}>Refuse next connect</button>
      </div>
      <h3>Network</h3>
      <div class="row-inline">
        <label>
          Registration
          <select value={shownReg} onChange={(e) => setReg(e.currentTarget.value as RegState)}>
            <option value="home">home</option>
            <option value="roaming">roaming</option>
            <option value="denied">denied</option>
            <option value="none">none (not registered)</option>
          </select>
        </label>
        {shownReg === 'denied' && (
          <label>
            Reject cause
            <input type="number" min={0} max={255} size={4} value={cause} onInput={(e) => setCause(Number(e.currentTarget.value))} />
          </label>
        )}
        <button
          type="button"
          onClick={() =>
            void run(`Registration ${shownReg}`, 'registration-state', shownReg === 'denied' ? { state: shownReg, rejectCause: cause } : { state: shownReg }).then(() => setReg(undefined))
          }
        >
          Set registration
        </button>
      </div>
      <div class="row-inline">
        <button type="button" aria-pressed={!simIn} onClick={() => void run(simIn ? 'Pull SIM' : 'Insert SIM', 'sim', { present: !simIn })}>
          {simIn ? 'Pull SIM' : 'Insert SIM'}
        </button>
        <label>
          PDP context
          <select value={shownCid ?? ''} disabled={active.length === 0} onChange={(e) => setCid(Number(e.currentTarget.value))}>
            {active.length === 0 && <option value="">none active</option>}
            {active.map((c) => (
              <option value={c.cid} key={c.cid}>
                {c.cid}
              </option>
            ))}
          </select>
        </label>
        <button type="button" disabled={shownCid === undefined} onClick={() => void run(`Deactivate context ${shownCid}`, 'deactivate-context', { cid: shownCid })}>
          Deactivate context
        </button>
      </div>
      <div class="row-inline">
        <label>
          Next open fails with
          <select value={openFault} onChange={(e) => setOpenFault(e.currentTarget.value)}>
            <option value="dns">DNS failure</option>
            <option value="refused">connection refused</option>
            <option value="timeout">timeout</option>
          </select>
        </label>
        <button type="button" onClick={() => void run('Fail next open', 'fail-next-open', { reason: openFault })}>Fail next open</button>
      </div>
      <label class="slider">
        <span>Signal (CSQ) <output>{shownRssi === 99 ? 'unknown' : `${shownRssi} · ${-113 + 2 * shownRssi} dBm`}</output></span>
        <input type="range" min={0} max={31} value={shownRssi === 99 ? 0 : shownRssi} onInput={(e) => setRssi(Number(e.currentTarget.value))} onChange={(e) => void run('Signal', 'signal', { rssi: Number(e.currentTarget.value) }).then(() => setRssi(undefined))} />
      </label>
      <label class="slider">
        <span>Latency <output>{shownLatency} ms</output></span>
        <input type="range" min={0} max={5000} step={50} value={shownLatency} onInput={(e) => setLatency(Number(e.currentTarget.value))} onChange={(e) => void run('Latency', 'latency', { ms: Number(e.currentTarget.value) }).then(() => setLatency(undefined))} />
      </label>
      {wifi && (
        <>
          <h3>Wi-Fi</h3>
          <div class="buttons">
            <button type="button" aria-pressed={!wifi.apPresent} onClick={() => void run(wifi.apPresent ? 'Access point off' : 'Access point back', 'wifi', { ap: !wifi.apPresent })}>
              {wifi.apPresent ? 'Access point off the air' : 'Access point back'}
            </button>
          </div>
          <label class="slider">
            <span>
              Wi-Fi signal <output>{shownWifiRssi} dBm</output>
            </span>
            <input
              type="range"
              min={-100}
              max={0}
              value={shownWifiRssi}
              onInput={(e) => setWifiRssi(Number(e.currentTarget.value))}
              onChange={(e) => void run('Wi-Fi signal', 'wifi', { rssi: Number(e.currentTarget.value) }).then(() => setWifiRssi(undefined))}
            />
          </label>
        </>
      )}
      <h3>Serial</h3>
      <label class="slider">
        <span>Response delay <output>{shownDelay} ms</output></span>
        <input type="range" min={0} max={5000} step={50} value={shownDelay} onInput={(e) => setDelay(Number(e.currentTarget.value))} onChange={(e) => void run('Response delay', 'response-delay', { ms: Number(e.currentTarget.value) }).then(() => setDelay(undefined))} />
      </label>
      <div class="row-inline">
        <label>
          Baud rate
          <select value={inspect?.serial?.baud ?? 0} onChange={(e) => void run('Baud', 'baud', { baud: Number(e.currentTarget.value) })}>
            {[0, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600].map((b) => (
              <option value={b} key={b}>{b === 0 ? 'unpaced' : b}</option>
            ))}
          </select>
        </label>
        <button type="button" class="danger" onClick={() => void run('Reboot', 'reboot')}>Reboot module</button>
      </div>
      <form class="row-inline ota" onSubmit={(e) => void ota(e)} aria-label="OTA push">
        <label>
          OTA version
          <input value={version} size={8} onInput={(e) => setVersion(e.currentTarget.value)} />
        </label>
        <label>
          Image
          <input type="file" name="image" />
        </label>
        <button type="submit">Push OTA</button>
      </form>
      {msg && <p class={msg.ok ? 'note' : 'error'} role="status">{msg.text}</p>}
    </section>
  );
}
