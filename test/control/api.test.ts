/**
 * The HTTP surface itself: discovery and inspection, the token, 404/405, malformed and oversized
 * bodies, out-of-range values — each answered with a JSON error and a stable code, and the
 * process keeps serving (and the modem keeps answering the firmware) afterwards.
 */
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { startVmodem } from '../../src/vmodem.js';
import { MAX_BODY_BYTES } from '../../src/control/http-api.js';
import { startEmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { atThenUrc, onCleanup, openAndConnect, reply, uniqueLink, useE2eCleanup } from '../helpers/e2e-harness.js';
import { startControlled, type Controlled } from './helpers.js';

useE2eCleanup();

async function expectError(r: Promise<{ status: number; json: any; text: string }>, status: number, code: string, message?: RegExp) {
  const a = await r;
  expect(a.status, a.text).toBe(status);
  expect(a.json?.error?.code, a.text).toBe(code);
  expect(typeof a.json.error.message).toBe('string');
  expect(a.json.error.message.length).toBeGreaterThan(5);
  if (message) expect(a.json.error.message).toMatch(message);
}

/** Still alive: the API answers and the modem answers the firmware. */
async function stillServing(c: Controlled) {
  expect((await c.api('GET', '/v1/modems')).status).toBe(200);
  expect(await c.fw.at('AT')).toBe(reply('AT'));
}

describe('control API: HTTP surface', () => {
  it('lists modems, describes itself, inspects a modem by index or name (MQTT state, subscriptions, counters)', async () => {
    const c = await startControlled();
    const { api, fw, vm } = c;
    const root = await api('GET', '/v1');
    expect(root.status).toBe(200);
    expect(root.json).toMatchObject({ name: 'vmodem', api: 'v1', modems: 1, broker: vm.brokerUrl });
    expect(root.json.endpoints).toContain('POST /v1/modems/{ref}/refuse-connect');

    const list = await api('GET', '/v1/modems');
    expect(list.json).toEqual({
      modems: [{ index: 0, name: 'modem0', profile: 'quectel-ec200', module: vm.profile.module, device: vm.devicePath, link: vm.linkPath, imei: vm.modems[0]!.imei }],
    });

    await openAndConnect(fw, 'insp-dev');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/down",1', '+QMTSUB: 0,1,0,1');
    const byIndex = await api('GET', '/v1/modems/0');
    const byName = await api('GET', '/v1/modems/modem0/');
    expect(byIndex.status).toBe(200);
    expect(byName.json.name).toBe('modem0');
    expect(byIndex.json).toMatchObject({
      name: 'modem0',
      index: 0,
      profile: 'quectel-ec200',
      network: { cfun: 1, regStat: 1, rssi: 24, ber: 99, sim: true },
      // No Wi-Fi on a cellular module: the dashboard hides its access-point controls.
      wifi: null,
      serial: { echo: true, baud: 0 },
      faults: { latencyMs: 0, down: false, stalled: false, connections: 1 },
      clientIds: ['insp-dev'],
      broker: [{ clientId: 'insp-dev', subscriptions: [{ topic: 'dev/down', qos: 1 }] }],
    });
    expect(byIndex.json.mqtt['quectel-qmt-ec200'][0]).toMatchObject({ idx: 0, state: 'connected', host: 'iot-as-mqtt.cn-shanghai.aliyuncs.com', port: 1883 });
    expect(byIndex.json.counters.commands).toBeGreaterThanOrEqual(3);
    expect(byIndex.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('requires the token on every request: 401 unauthorized without it or with a wrong one', async () => {
    const c = await startControlled();
    await expectError(c.api('GET', '/v1/modems', undefined, { token: null }), 401, 'unauthorized');
    const wrong = await c.api('POST', '/v1/modems/0/drop', {}, { token: 'not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectError(c.api('GET', '/v1/modems', undefined, { token: null, headers: { Authorization: `Basic ${c.token}` } }), 401, 'unauthorized');
    // The query-string token is for the WebSocket only.
    await expectError(c.api('GET', `/v1/modems?token=${c.token}`, undefined, { token: null }), 401, 'unauthorized');
    // A refused request changed nothing.
    expect((await c.api('GET', '/v1/modems/0')).json.faults.connections).toBe(0);
    await stillServing(c);
  });

  it('answers 404 for unknown endpoints and modems, 405 (with Allow) for a wrong method, 426 for /v1/events without upgrade', async () => {
    const c = await startControlled();
    await expectError(c.api('GET', '/'), 404, 'not-found');
    await expectError(c.api('GET', '/v2/modems'), 404, 'not-found');
    await expectError(c.api('POST', '/v1/modems/0/explode', {}), 404, 'not-found', /\/v1\/modems\/0\/explode/);
    await expectError(c.api('GET', '/v1/modems/0/drop/extra'), 404, 'not-found');
    await expectError(c.api('POST', '/v1/modems/7/drop', {}), 404, 'unknown-modem', /no modem "7"; modems: 0 \(modem0\)/);
    await expectError(c.api('GET', '/v1/modems/nosuch'), 404, 'unknown-modem');
    await expectError(c.api('GET', '/v1/modems/%zz'), 400, 'bad-request');

    const wrong = await c.api('GET', '/v1/modems/0/drop');
    expect([wrong.status, wrong.json.error.code, wrong.headers.get('allow')]).toEqual([405, 'method-not-allowed', 'POST']);
    const del = await c.api('POST', '/v1/modems/0/overrides', {});
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'DELETE']);
    await expectError(c.api('DELETE', '/v1/modems'), 405, 'method-not-allowed');
    await expectError(c.api('GET', '/v1/events'), 426, 'upgrade-required');
    await stillServing(c);
  });

  it('malformed, non-object and oversized bodies are refused; the process keeps serving', async () => {
    const c = await startControlled();
    await expectError(c.api('POST', '/v1/modems/0/stall', '{"on": tru'), 400, 'bad-json', /not valid JSON/);
    await expectError(c.api('POST', '/v1/modems/0/stall', '[true]'), 400, 'bad-json', /JSON object/);
    await expectError(c.api('POST', '/v1/modems/0/stall', 'null'), 400, 'bad-json');
    await expectError(c.api('POST', '/v1/modems/0/stall', '\u0000\u00ff garbage'), 400, 'bad-json');
    await expectError(c.api('POST', '/v1/modems/0/publish', JSON.stringify({ topic: 't', payload: 'x'.repeat(MAX_BODY_BYTES) })), 413, 'body-too-large');
    // Chunked (no Content-Length): cut off while streaming.
    const big = new ReadableStream({
      start(ctrl) {
        for (let i = 0; i < 20; i++) ctrl.enqueue(new Uint8Array(128 * 1024));
        ctrl.close();
      },
    });
    const res = await fetch(`${c.url}/v1/modems/0/inject`, { method: 'POST', headers: { Authorization: `Bearer ${c.token}` }, body: big, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('body-too-large');

    // Not HTTP at all.
    const garbage = await new Promise<string>((resolve) => {
      const s = net.connect(c.vm.control!.port, '127.0.0.1', () => s.write('\x16\x03\x01 not http at all\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    // An empty body is an empty object (POST /drop needs nothing).
    expect((await c.api('POST', '/v1/modems/0/drop')).json).toEqual({ ok: true, dropped: 0 });
    await stillServing(c);
  });

  it('refuses missing, mistyped, unknown and out-of-range fields with stable codes', async () => {
    const c = await startControlled();
    const post = (op: string, body: unknown) => c.api('POST', `/v1/modems/0/${op}`, body);
    await expectError(post('stall', { on: 'yes' }), 400, 'bad-request', /"on" must be true or false/);
    await expectError(post('stall', { on: true, forever: true }), 400, 'bad-request', /unknown field "forever"/);
    await expectError(post('registration', {}), 400, 'bad-request', /missing "registered"/);
    await expectError(post('publish', { payload: 'x' }), 400, 'bad-request', /missing "topic"/);
    await expectError(post('publish', { topic: 'a/#', payload: 'x' }), 400, 'bad-topic');
    await expectError(post('publish', { topic: '', payload: 'x' }), 400, 'bad-topic');
    await expectError(post('publish', { topic: 'a', payload: 'x', qos: 3 }), 400, 'bad-qos');
    await expectError(post('publish', { topic: 'a', payload: 'x', payloadHex: '00' }), 400, 'bad-request', /only one of/);
    await expectError(post('publish', { topic: 'a', payloadHex: 'abc' }), 400, 'bad-hex');
    await expectError(post('publish', { topic: 'a', payloadBase64: '!!' }), 400, 'bad-base64');
    await expectError(post('refuse-connect', { returnCode: 0 }), 400, 'bad-code');
    await expectError(post('refuse-connect', { returnCode: 6 }), 400, 'bad-code');
    await expectError(post('refuse-subscribe', {}), 400, 'bad-request');
    await expectError(post('refuse-publish', { filter: 5 }), 400, 'bad-request');
    await expectError(post('ack-fault', { kind: 'pubrec', delayMs: 5 }), 400, 'bad-request', /puback, suback/);
    await expectError(post('ack-fault', { kind: 'puback' }), 400, 'bad-request', /missing "delayMs"/);
    await expectError(post('ack-fault', { kind: 'puback', delayMs: -5 }), 400, 'bad-delay');
    await expectError(post('ack-fault', { kind: 'puback', delayMs: 'soon' }), 400, 'bad-request');
    await expectError(post('broker', { up: 1 }), 400, 'bad-request');
    await expectError(post('signal', { rssi: -1 }), 400, 'bad-rssi');
    await expectError(post('signal', { rssi: 5.5 }), 400, 'bad-rssi');
    await expectError(post('fail-next-open', { reason: 'flood' }), 400, 'bad-request', /dns, refused, timeout/);
    await expectError(post('latency', { ms: 1e9 }), 400, 'bad-latency');
    await expectError(post('override', { command: '+CSQ' }), 400, 'bad-override');
    await expectError(post('override', { command: '+CSQ', response: [] }), 400, 'bad-override');
    await expectError(post('override', { command: '+CSQ', response: ['OK\r\nOK'] }), 400, 'bad-override');
    await expectError(post('override', { command: '', response: ['OK'] }), 400, 'bad-override');
    await expectError(post('override', { command: '+CSQ', response: ['OK'], form: 'weird' }), 400, 'bad-request');
    await expectError(post('response-delay', { ms: -1 }), 400, 'bad-delay');
    await expectError(post('baud', { baud: -9600 }), 400, 'bad-baud');
    await expectError(post('baud', { baud: 20_000_000 }), 400, 'bad-baud');
    await expectError(post('inject', {}), 400, 'bad-request');
    await expectError(post('inject', { text: '' }), 400, 'bad-request', /nothing to inject/);
    await expectError(post('wait-for-publish', { timeoutMs: 10_000_000 }), 400, 'bad-timeout');
    // Nothing above took effect.
    const s = (await c.api('GET', '/v1/modems/0')).json;
    expect(s.faults).toMatchObject({ latencyMs: 0, down: false, stalled: false, rules: { refuseSubscribe: [], refusePublish: [] } });
    expect(s.serial).toMatchObject({ baud: 0, responseDelayMs: 0, overrides: 0 });
    expect(s.network).toMatchObject({ rssi: 24, ber: 99 });
    await stillServing(c);
  });

  it('answers many concurrent requests', async () => {
    const c = await startControlled();
    const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => c.api('POST', '/v1/modems/0/signal', { rssi: i % 32 })));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    await stillServing(c);
  });

  it('listens on 127.0.0.1 only', async () => {
    const c = await startControlled();
    expect(c.url).toBe(`http://127.0.0.1:${c.vm.control!.port}`);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (external) {
      const err = await new Promise<string>((resolve) => {
        const s = net.connect(c.vm.control!.port, external, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(err).toBe('ECONNREFUSED');
    }
  });

  it('inspects a Wi-Fi module with its station (what the dashboard shows Wi-Fi controls for); a cellular one answers wifi with 409 no-wifi', async () => {
    const token = 'wifi-inspect-token-1';
    const vm = await startVmodem({ profile: 'tencent-qcloud', link: null, mqttPort: 0, timing: 'fast', control: { port: 0, token } });
    onCleanup(() => vm.stop());
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${vm.control!.url}/v1/modems/0${path}`, { method, headers: { Authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, json: (await r.json()) as any };
    };
    expect((await call('GET', '')).json.wifi).toMatchObject({ apPresent: true });
    expect(await call('POST', '/wifi', { ap: false, rssi: -70 })).toEqual({ status: 200, json: { ok: true } });
    expect((await call('GET', '')).json.wifi).toMatchObject({ apPresent: false, rssi: -70 });

    const c = await startControlled();
    await expectError(c.api('POST', '/v1/modems/0/wifi', { ap: false }), 409, 'no-wifi');
  });

  it('uses a given token, refuses a bad one, a port in use, and stops cleanly', async () => {
    const token = 'my-ci-token-1234';
    const vm = await startVmodem({ link: uniqueLink(), mqttPort: 0, timing: 'fast', control: { port: 0, token } });
    onCleanup(() => vm.stop());
    expect(vm.control!.token).toBe(token);
    const r = await fetch(`${vm.control!.url}/v1/modems`, { headers: { Authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);

    await expect(startVmodem({ link: null, mqttPort: 0, control: { port: 0, token: 'short' } })).rejects.toThrow(/--control-token/);
    await expect(startVmodem({ link: null, mqttPort: 0, control: { port: 70000 } })).rejects.toThrow(/--control-port/);
    await expect(startVmodem({ link: null, mqttPort: 0, control: { port: vm.control!.port } })).rejects.toThrow(
      /control port \d+ on 127\.0\.0\.1 is already in use; choose another --control-port/,
    );

    // A generated token is long and random.
    const vm2 = await startVmodem({ link: null, mqttPort: 0, timing: 'fast', control: { port: 0 } });
    onCleanup(() => vm2.stop());
    expect(vm2.control!.token).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(vm2.control!.token).not.toBe(vm.control!.token);

    const port = vm.control!.port;
    await vm.stop();
    const refused = await fetch(`http://127.0.0.1:${port}/v1/modems`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  });

  it('with an external broker, broker-side operations answer 409 external-broker; proxy faults still work', async () => {
    // A broker of its own, outside this vmodem (the system suite does the same with mosquitto).
    const external = await startEmbeddedBroker({ port: 0 });
    onCleanup(() => external.close());
    const c = await startControlled({ broker: `mqtt://127.0.0.1:${external.port}` });
    await expectError(c.api('POST', '/v1/modems/0/publish', { topic: 'a', payload: 'x' }), 409, 'external-broker', /--broker/);
    await expectError(c.api('GET', '/v1/modems/0/published'), 409, 'external-broker');
    await expectError(c.api('POST', '/v1/modems/0/refuse-subscribe', { filter: '#' }), 409, 'external-broker');
    await openAndConnect(c.fw, 'ext-dev');
    expect(await c.op('drop')).toEqual({ ok: true, dropped: 1 });
    expect((await c.fw.readUntil('\r\n+QMTSTAT: 0,1\r\n')).text).toBe('\r\n+QMTSTAT: 0,1\r\n');
  });
});
