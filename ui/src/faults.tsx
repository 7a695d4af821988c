/** Faults as labelled buttons and sliders: one control per control-API operation. */
import { useState } from 'preact/hooks';
import type { Api } from './api';
import { bytesToBase64 } from './api';

export function FaultsPanel({ api, modem, inspect }: { api: Api; modem: string; inspect?: Record<string, any> }) {
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const [code, setCode] = useState(5);
  const [openFault, setOpenFault] = useState('dns');
  const [rssi, setRssi] = useState<number>();
  const [latency, setLatency] = useState<number>();
  const [delay, setDelay] = useState<number>();
  const [version, setVersion] = useState('2.0.0');
  const faults = inspect?.faults ?? {};
  const net = inspect?.network ?? {};
  const registered = net.regStat === 1 || net.regStat === 5;

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
      <div class="buttons">
        <button type="button" aria-pressed={!registered} onClick={() => void run(registered ? 'Registration lost' : 'Registration back', 'registration', { registered: !registered })}>
          {registered ? 'Lose registration' : 'Registration back'}
        </button>
        <button type="button" onClick={() => void run('Pull SIM', 'sim', { present: false })}>Pull SIM</button>
        <button type="button" onClick={() => void run('Insert SIM', 'sim', { present: true })}>Insert SIM</button>
        <button type="button" onClick={() => void run('Deactivate PDP context', 'deactivate-context', { cid: 1 })}>Deactivate context</button>
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
