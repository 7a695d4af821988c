/** Module state: identity, network, who holds the port, each MQTT client as inspect() reports it. */
import type { About, DemoStatus } from './api';

const REG: Record<number, string> = { 0: 'not registered', 1: 'registered (home)', 2: 'searching…', 3: 'registration denied', 4: 'unknown', 5: 'registered (roaming)' };

function Bars({ rssi }: { rssi: number }) {
  const n = rssi === 99 ? 0 : rssi >= 20 ? 4 : rssi >= 15 ? 3 : rssi >= 10 ? 2 : rssi >= 2 ? 1 : 0;
  return (
    <span class="bars" aria-hidden="true">
      {[1, 2, 3, 4].map((i) => (
        <i class={i <= n ? 'on' : ''} style={{ height: `${4 + i * 3}px` }} />
      ))}
    </span>
  );
}

function value(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') {
    if (Array.isArray(v)) return v.length === 0 ? '[]' : v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
    return JSON.stringify(v);
  }
  return String(v);
}

function clientState(c: Record<string, unknown>): string {
  const session = c.session as Record<string, unknown> | undefined;
  return String(c.state ?? session?.state ?? '–');
}

/** One MQTT client: its own fields, with the session core's record (state, subscriptions, counters) flattened. */
function ClientView({ c, set }: { c: Record<string, unknown>; set: string }) {
  const session = (c.session ?? {}) as Record<string, unknown>;
  const fields: [string, unknown][] = [
    ...Object.entries(c).filter(([k]) => k !== 'state' && k !== 'idx' && k !== 'session'),
    ...Object.entries(session).filter(([k]) => k !== 'state' && k !== 'subscriptions' && k !== 'counters' && !(k in c)),
  ];
  const subs = Object.entries((session.subscriptions ?? {}) as Record<string, number>);
  const counters = Object.entries((session.counters ?? {}) as Record<string, number>);
  const state = clientState(c);
  return (
    <details class="client" open>
      <summary>
        <span class="mono">{set}</span> #{value(c.idx ?? c.id ?? '')} <span class={`pill ${state === 'connected' ? 'ok' : 'muted'}`}>{state}</span>
      </summary>
      <dl class="kv small">
        {fields.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd class="mono">{value(v)}</dd>
          </>
        ))}
        <dt>subscriptions</dt>
        <dd class="mono">{subs.length === 0 ? '–' : subs.map(([t, q]) => `${t} (QoS ${q})`).join(', ')}</dd>
        {counters.length > 0 && (
          <>
            <dt>counters</dt>
            <dd class="mono">{counters.map(([k, v]) => `${k} ${v}`).join(' · ')}</dd>
          </>
        )}
      </dl>
    </details>
  );
}

export function StatePanel({ about, inspect, demo }: { about?: About; inspect?: Record<string, any>; demo?: DemoStatus }) {
  const net = inspect?.network ?? {};
  const rssi: number | undefined = net.rssi;
  const dbm = rssi === undefined || rssi === 99 ? undefined : -113 + 2 * rssi;
  const mqtt = (inspect?.mqtt ?? {}) as Record<string, unknown>;
  const clients = Object.entries(mqtt).filter(([k, v]) => k !== 'faults' && Array.isArray(v)) as [string, Record<string, unknown>[]][];
  const host = about?.host;
  const wifi = inspect?.wifi as { state: string; apPresent: boolean; rssi: number; ssid: string | null; ip: string | null } | null | undefined;
  return (
    <section class="panel state" aria-labelledby="state-h">
      <header>
        <h2 id="state-h">Module</h2>
      </header>
      <dl class="kv">
        <dt>Module</dt>
        <dd>{about ? `${about.identity.manufacturer ?? ''} ${about.identity.model ?? ''}`.trim() || about.module : '…'}</dd>
        <dt>Revision</dt>
        <dd>{about?.identity.revision ?? '–'}</dd>
        <dt>IMEI</dt>
        <dd class="mono">{about?.identity.imei ?? '–'}</dd>
        <dt>Port</dt>
        <dd class="mono">{about ? `${about.link ?? about.device}${about.link ? ` → ${about.device}` : ''}` : '–'}</dd>
        <dt>Firmware</dt>
        <dd>{!host ? '–' : !host.watched ? 'unknown (opens not watched)' : host.open ? (host.takenOver ? 'attached, paused by takeover' : 'attached') : 'none attached'}</dd>
        <dt>Network</dt>
        <dd>
          <span class={`dot ${net.regStat === 1 || net.regStat === 5 ? 'ok' : 'bad'}`} />
          {net.regStat === undefined ? '–' : REG[net.regStat] ?? `stat ${net.regStat}`}
          {net.regStat === 3 && net.rejectCause !== undefined ? ` (cause ${net.rejectCause})` : ''}
          {net.cfun !== undefined && net.cfun !== 1 ? ` (CFUN=${net.cfun})` : ''}
        </dd>
        <dt>SIM</dt>
        <dd>
          <span class={`dot ${net.sim === false ? 'bad' : 'ok'}`} />
          {net.sim === undefined ? '–' : net.sim ? 'inserted' : 'removed'}
        </dd>
        {wifi && (
          <>
            <dt>Wi-Fi</dt>
            <dd>
              <span class={`dot ${wifi.state === 'online' ? 'ok' : wifi.apPresent ? 'warn' : 'bad'}`} />
              {wifi.ssid ?? 'no network'} · {wifi.state} · {wifi.rssi} dBm{wifi.apPresent ? '' : ' · access point off the air'}
            </dd>
          </>
        )}
        <dt>Signal</dt>
        <dd>
          {rssi === undefined ? '–' : (
            <>
              <Bars rssi={rssi} /> CSQ {rssi}
              {dbm !== undefined ? ` (${dbm} dBm)` : ' (unknown)'}
            </>
          )}
        </dd>
        {demo && (
          <>
            <dt>Demo firmware</dt>
            <dd>
              <span class={`dot ${demo.state === 'online' ? 'ok' : demo.state === 'paused' ? 'warn' : 'bad'}`} />
              {demo.state}
              {demo.detail ? ` — ${demo.detail}` : ''} · {demo.published} sent · {demo.commands} commands
              {demo.script ? ` · ${demo.script.split('/').pop() ?? ''}` : ''}
            </dd>
          </>
        )}
      </dl>
      <h3>MQTT clients</h3>
      {clients.every(([, list]) => list.length === 0) && <p class="empty">No MQTT client in use.</p>}
      {clients.map(([set, list]) => {
        const busy = list.filter((c) => clientState(c) !== 'idle');
        const idle = list.length - busy.length;
        return (
          <div key={set}>
            {busy.map((c, i) => (
              <ClientView c={c} set={set} key={`${set}-${i}`} />
            ))}
            {idle > 0 && (
              <p class="muted small">
                {busy.length === 0 ? `${set}: ` : ''}
                {idle} {idle === 1 ? 'client' : 'clients'} idle
              </p>
            )}
          </div>
        );
      })}
      {inspect?.counters && (
        <p class="counters mono">
          {Object.entries(inspect.counters as Record<string, number>)
            .map(([k, v]) => `${k} ${v}`)
            .join(' · ')}
        </p>
      )}
    </section>
  );
}
