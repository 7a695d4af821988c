/** The cloud side: topics that passed the broker, the message rate, a publish form, the registry entry. */
import { useState } from 'preact/hooks';
import type { About, Api } from './api';
import { hexBytes, utf8 } from './api';
import { RATE_WINDOW, type ModemStore, type TopicInfo } from './store';

interface Node {
  name: string;
  path: string;
  children: Map<string, Node>;
  info?: TopicInfo;
}

function tree(topics: Iterable<TopicInfo>): Node {
  const root: Node = { name: '', path: '', children: new Map() };
  for (const t of topics) {
    let n = root;
    const parts = t.topic.split('/');
    parts.forEach((p, i) => {
      const path = parts.slice(0, i + 1).join('/');
      let c = n.children.get(p);
      if (!c) n.children.set(p, (c = { name: p, path, children: new Map() }));
      n = c;
    });
    n.info = t;
  }
  return root;
}

function TreeView({ node, selected, onSelect }: { node: Node; selected?: string; onSelect: (t: string) => void }) {
  const kids = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <ul role={node.path === '' ? 'tree' : 'group'} aria-label={node.path === '' ? 'Topics' : undefined}>
      {kids.map((k) => (
        <li role="treeitem" aria-expanded={k.children.size > 0 ? true : undefined} aria-selected={k.info ? k.path === selected : undefined} key={k.path}>
          {k.info ? (
            <button type="button" class={`topic ${k.path === selected ? 'sel' : ''}`} onClick={() => onSelect(k.path)}>
              <span class={`arrow ${k.info.lastDir}`} title={k.info.lastDir === 'up' ? 'device → cloud' : 'cloud → device'}>
                {k.info.lastDir === 'up' ? '↑' : '↓'}
              </span>
              {k.name || '(empty)'} <span class="count">{k.info.count}</span>
            </button>
          ) : (
            <span class="branch">{k.name || '(empty)'}/</span>
          )}
          {k.children.size > 0 && <TreeView node={k} selected={selected} onSelect={onSelect} />}
        </li>
      ))}
    </ul>
  );
}

function Sparkline({ store }: { store: ModemStore }) {
  const now = Math.floor(Date.now() / 1000);
  const w = 240;
  const h = 36;
  const by = new Map(store.rate.map((r) => [r.sec, r]));
  const up: number[] = [];
  const down: number[] = [];
  for (let s = now - RATE_WINDOW + 1; s <= now; s++) {
    up.push(by.get(s)?.up ?? 0);
    down.push(by.get(s)?.down ?? 0);
  }
  const max = Math.max(1, ...up, ...down);
  const pts = (v: number[]) => v.map((x, i) => `${((i / (v.length - 1)) * w).toFixed(1)},${(h - 2 - (x / max) * (h - 4)).toFixed(1)}`).join(' ');
  const total = up.reduce((a, b) => a + b, 0) + down.reduce((a, b) => a + b, 0);
  return (
    <figure class="spark">
      <svg width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`${total} messages in the last ${RATE_WINDOW} seconds`}>
        <polyline points={pts(up)} class="up" />
        <polyline points={pts(down)} class="down" />
      </svg>
      <figcaption>
        <span class="up">↑ device→cloud</span> <span class="down">↓ cloud→device</span> · {total} msgs / {RATE_WINDOW}s · peak {max}/s
      </figcaption>
    </figure>
  );
}

function Payload({ info }: { info: TopicInfo }) {
  const [view, setView] = useState<'text' | 'json' | 'hex'>('json');
  const bytes = hexBytes(info.lastHex);
  const text = utf8(bytes);
  let json: string | undefined;
  try {
    json = text !== undefined ? JSON.stringify(JSON.parse(text), null, 2) : undefined;
  } catch {
    json = undefined;
  }
  const v = view === 'json' && json === undefined ? (text !== undefined ? 'text' : 'hex') : view === 'text' && text === undefined ? 'hex' : view;
  const body = v === 'json' ? json : v === 'text' ? text : info.lastHex.replace(/(..)/g, '$1 ').trim();
  return (
    <div class="payload">
      <div class="payload-head">
        <span class="mono">{info.topic}</span>
        <span class="muted">
          {info.lastDir === 'up' ? 'device → cloud' : 'cloud → device'} · QoS {info.lastQos}
          {info.retain ? ' · retained' : ''} · {bytes.length} B
        </span>
        <div role="group" aria-label="Payload view" class="seg">
          {(['text', 'json', 'hex'] as const).map((k) => (
            <button type="button" aria-pressed={v === k} onClick={() => setView(k)} key={k}>
              {k === 'json' ? 'JSON' : k === 'hex' ? 'Hex' : 'Text'}
            </button>
          ))}
        </div>
      </div>
      <pre>{body || '(empty)'}</pre>
    </div>
  );
}

export function CloudPanel({ store, api, modem, about, defaultTopic, inspect }: { store: ModemStore; api: Api; modem: string; about?: About; defaultTopic?: string; inspect?: Record<string, any> }) {
  const [selected, setSelected] = useState<string>();
  const [topic, setTopic] = useState('');
  const [payload, setPayload] = useState('{"led":"on"}');
  const [qos, setQos] = useState(1);
  const [retain, setRetain] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string }>();
  const subs: string[] = ((inspect?.broker ?? []) as { subscriptions: { topic: string }[] }[]).flatMap((s) => s.subscriptions.map((x) => x.topic));
  const effectiveTopic = topic || defaultTopic || subs.find((s) => !/[+#]/.test(s)) || '';
  const info = selected ? store.topics.get(selected) : undefined;

  const publish = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api.modem(modem, 'publish', 'POST', { topic: effectiveTopic, payload, qos, retain });
      setMsg({ ok: true, text: `published ${r.bytes as number} bytes to ${effectiveTopic}` });
    } catch (err) {
      setMsg({ ok: false, text: (err as Error).message });
    }
  };

  return (
    <section class="panel cloud" aria-labelledby="cloud-h">
      <header>
        <h2 id="cloud-h">Cloud</h2>
      </header>
      <Sparkline store={store} />
      <div class="topics">
        {store.topics.size === 0 ? <p class="empty">No MQTT messages yet.</p> : <TreeView node={tree(store.topics.values())} selected={selected} onSelect={setSelected} />}
      </div>
      {info && <Payload info={info} />}
      <form class="publish" onSubmit={(e) => void publish(e)} aria-label="Publish to the device">
        <h3>Publish to the device</h3>
        <label>
          Topic
          <input name="topic" value={effectiveTopic} onInput={(e) => setTopic(e.currentTarget.value)} required list="sub-topics" />
          <datalist id="sub-topics">
            {subs.map((s) => (
              <option value={s} key={s} />
            ))}
          </datalist>
        </label>
        <label>
          Payload
          <textarea name="payload" rows={2} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
        </label>
        <div class="row-inline">
          <label>
            QoS
            <select name="qos" value={qos} onChange={(e) => setQos(Number(e.currentTarget.value))}>
              <option value={0}>0</option>
              <option value={1}>1</option>
              <option value={2}>2</option>
            </select>
          </label>
          <label class="check">
            <input type="checkbox" name="retain" checked={retain} onChange={(e) => setRetain(e.currentTarget.checked)} /> Retain
          </label>
          <button type="submit" class="primary">Publish</button>
        </div>
        {msg && <p class={msg.ok ? 'note' : 'error'} role="status">{msg.text}</p>}
      </form>
      {about && about.registry.length > 0 && (
        <>
          <h3>Platform registry</h3>
          {about.registry.map((r, i) => (
            <dl class="kv small" key={i}>
              {Object.entries(r).map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd class="mono">{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
                </>
              ))}
            </dl>
          ))}
        </>
      )}
    </section>
  );
}
