/**
 * The WebSocket event stream (GET /v1/events): serial bytes, URCs, MQTT packets and state changes
 * of a real modem driven by a firmware on the PTY; per-modem and per-type filters; the token.
 */
import { describe, expect, it } from 'vitest';
import type { ControlEvent } from '../../src/control/controller.js';
import { ControlApiError, ControlClient, type EventStream } from '../../src/control/ctl-client.js';
import { connectWebSocket, WebSocketHandshakeError } from '../../src/control/websocket.js';
import { startFirmware } from '../helpers/firmware.js';
import { onCleanup, openAndConnect, reply, useE2eCleanup } from '../helpers/e2e-harness.js';
import { expectUrc, startControlled } from './helpers.js';

useE2eCleanup();

/** Collect events until `until` matches one (or time runs out). */
function collector() {
  const events: ControlEvent[] = [];
  const waiters: { pred: (e: ControlEvent) => boolean; resolve: (e: ControlEvent) => void }[] = [];
  return {
    events,
    push(e: ControlEvent) {
      events.push(e);
      for (const w of waiters.slice()) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
    waitFor(pred: (e: ControlEvent) => boolean, timeoutMs = 5000): Promise<ControlEvent> {
      const hit = events.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching event; got ${JSON.stringify(events.map((e) => [e.type, 'text' in e ? e.text : 'what' in e ? e.what : e.cmd]))}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
  };
}

function closeAfter(ws: EventStream | { terminate(): void }) {
  onCleanup(() => ws.terminate());
}

describe('control API: event stream (WebSocket)', () => {
  it('streams serial bytes, URCs, MQTT packets and state changes as JSON text frames', async () => {
    const { fw, client } = await startControlled();
    const c = collector();
    const ws = await client.events({}, (e) => c.push(e));
    closeAfter(ws);

    expect(await fw.at('AT')).toBe(reply('AT'));
    const inAt = await c.waitFor((e) => e.type === 'serial' && e.dir === 'in' && e.text.includes('AT\r'));
    expect(inAt).toMatchObject({ type: 'serial', modem: 'modem0', dir: 'in', hex: Buffer.from('AT\r').toString('hex') });
    expect(typeof inAt.t).toBe('number');
    await c.waitFor((e) => e.type === 'serial' && e.dir === 'out' && e.text.includes('OK'));

    await openAndConnect(fw, 'ev-dev');
    expect(await c.waitFor((e) => e.type === 'mqtt' && e.dir === 'up' && e.cmd === 'connect')).toMatchObject({ modem: 'modem0' });
    await c.waitFor((e) => e.type === 'mqtt' && e.dir === 'down' && e.cmd === 'connack');
    await c.waitFor((e) => e.type === 'urc' && e.text === '+QMTCONN: 0,0,0');

    await client.drop();
    await expectUrc(fw, '+QMTSTAT: 0,1');
    expect(await c.waitFor((e) => e.type === 'state' && e.what === 'drop')).toMatchObject({ detail: { dropped: 1 } });
    const stat = await c.waitFor((e) => e.type === 'urc' && e.text === '+QMTSTAT: 0,1');
    expect(stat).toMatchObject({ type: 'urc', modem: 'modem0' });

    // Injected junk is reported as serial output of kind "inject", not as a URC.
    await client.inject({ text: '+FAKE: 1\r\n' });
    expect(await c.waitFor((e) => e.type === 'serial' && e.dir === 'out' && e.text === '+FAKE: 1\r\n')).toMatchObject({ kind: 'inject' });
    await c.waitFor((e) => e.type === 'state' && e.what === 'inject');
    expect(c.events.some((e) => e.type === 'urc' && e.text.includes('FAKE'))).toBe(false);

    // Events come in order of their timestamps.
    const ts = c.events.map((e) => e.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });

  it('filters by modem (?modem=) and type (?types=)', async () => {
    const { vm, client } = await startControlled({ count: 2 });
    const fw1 = startFirmware();
    await fw1.open(vm.modems[1]!.linkPath!);
    expect((await fw1.readUntil('RDY\r\n')).text).toBe('\r\nRDY\r\n');

    const only1 = collector();
    const ws1 = await client.events({ modem: 'modem1', types: ['urc', 'state'] }, (e) => only1.push(e));
    closeAfter(ws1);
    const all = collector();
    const wsAll = await client.events({}, (e) => all.push(e));
    closeAfter(wsAll);

    await client.forModem(0).signal(3);
    await client.forModem(1).signal(4);
    await client.forModem(1).inject({ text: 'x' });
    await all.waitFor((e) => e.type === 'state' && e.modem === 'modem1' && e.what === 'inject');
    await only1.waitFor((e) => e.type === 'state' && e.what === 'inject');
    expect(all.events.some((e) => e.modem === 'modem0')).toBe(true);
    expect(only1.events.every((e) => e.modem === 'modem1' && (e.type === 'urc' || e.type === 'state'))).toBe(true);
    expect(only1.events.map((e) => (e.type === 'state' ? e.what : e.type))).toEqual(['signal', 'inject']);
    await fw1.kill();
  });

  it('refuses a wrong token, an unknown modem and an unknown type before the upgrade', async () => {
    const { url, token, client } = await startControlled();
    const bad = new ControlClient({ url, token: 'wrong-token-123' });
    await expect(bad.events({}, () => {})).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await expect(client.events({ modem: 9 }, () => {})).rejects.toMatchObject({ code: 'unknown-modem', status: 404 });
    await expect(client.events({ types: ['nope' as 'urc'] }, () => {})).rejects.toMatchObject({ code: 'bad-request', status: 400 });
    await expect(bad.events({}, () => {})).rejects.toBeInstanceOf(ControlApiError);

    // ?token= works for clients that cannot set headers (browsers).
    const ws = await connectWebSocket(`${url.replace('http', 'ws')}/v1/events?token=${token}`);
    closeAfter(ws);
    expect(ws.readyState).toBe(ws.OPEN);
    const err = await connectWebSocket(`${url.replace('http', 'ws')}/v1/events?token=nope`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebSocketHandshakeError);
    expect((err as WebSocketHandshakeError).status).toBe(401);
    expect(JSON.parse((err as WebSocketHandshakeError).body)).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('stopping vmodem closes the stream with 1001 (going away)', async () => {
    const { vm, client } = await startControlled();
    const ws = await client.events({}, () => {});
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await vm.stop();
    expect(await closed).toBe(1001);
  });
});
