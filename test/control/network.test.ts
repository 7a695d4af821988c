/**
 * Network-side operations through the HTTP API, observed on the PTY (quectel-ec200).
 */
import { describe, expect, it } from 'vitest';
import { atThenUrc, openAndConnect, reply, useE2eCleanup } from '../helpers/e2e-harness.js';
import { expectUrc, startControlled } from './helpers.js';

useE2eCleanup();

describe('control API: network side (quectel-ec200 through the PTY)', () => {
  it('registration lost: +QMTSTAT: 0,7, AT+CREG?/AT+CEREG? show 0, opens fail; regained: back to 1', async () => {
    const { fw, op, api } = await startControlled();
    await openAndConnect(fw, 'reg-dev');
    await op('registration', { registered: false });
    await expectUrc(fw, '+QMTSTAT: 0,7');
    expect(await fw.at('AT+CREG?')).toBe(reply('AT+CREG?', '+CREG: 0,0'));
    expect(await fw.at('AT+CEREG?')).toBe(reply('AT+CEREG?', '+CEREG: 0,0'));
    expect((await api('GET', '/v1/modems/0')).json.network).toMatchObject({ regStat: 0, dataReady: false });
    // No network: the open fails at once with the manual's "network down" result.
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,5');

    await op('registration', { registered: true });
    expect(await fw.at('AT+CREG?')).toBe(reply('AT+CREG?', '+CREG: 0,1'));
    await openAndConnect(fw, 'reg-dev');
  });

  it('registration changes are reported as +CREG URCs when AT+CREG=1', async () => {
    const { fw, op } = await startControlled();
    expect(await fw.at('AT+CREG=1')).toBe(reply('AT+CREG=1'));
    await op('registration', { registered: false });
    await expectUrc(fw, '+CREG: 0');
    await op('registration', { registered: true });
    await expectUrc(fw, '+CREG: 1');
  });

  it('signal sets what AT+CSQ reports; out-of-range values are refused with a stable code', async () => {
    const { fw, op, api } = await startControlled();
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 24,99'));
    await op('signal', { rssi: 7, ber: 3 });
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 7,3'));
    await op('signal', { rssi: 99 });
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 99,99'));

    const r1 = await api('POST', '/v1/modems/0/signal', { rssi: 32 });
    expect([r1.status, r1.json]).toEqual([400, { error: { code: 'bad-rssi', message: 'rssi must be 0–31 or 99' } }]);
    const r2 = await api('POST', '/v1/modems/0/signal', { rssi: 10, ber: 8 });
    expect([r2.status, r2.json.error.code]).toEqual([400, 'bad-ber']);
    const r3 = await api('POST', '/v1/modems/0/signal', { rssi: '10' });
    expect([r3.status, r3.json.error]).toEqual([400, { code: 'bad-request', message: '"rssi" must be a number' }]);
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 99,99'));
  });

  it('fail-next-open: dns → +QMTOPEN: 0,4, refused → +QMTOPEN: 0,-1, once each; the next open works', async () => {
    const { fw, op } = await startControlled();
    await op('fail-next-open', { reason: 'dns' });
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,4');
    await op('fail-next-open', { reason: 'refused' });
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,-1');
    await op('fail-next-open', { reason: 'timeout' });
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,-1');
    await openAndConnect(fw, 'open-dev');
  });

  it('latency delays every packet each way (CONNECT→CONNACK takes at least two of them); 0 removes it', async () => {
    const { fw, op, api } = await startControlled();
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,0');
    await op('latency', { ms: 400 });
    expect((await api('GET', '/v1/modems/0')).json.faults.latencyMs).toBe(400);
    const started = performance.now();
    expect(await fw.at('AT+QMTCONN=0,"lat-dev"')).toBe(reply('AT+QMTCONN=0,"lat-dev"'));
    // Nothing comes early; the URC comes after both legs (a lower bound only).
    expect((await fw.drain(300)).toString('latin1')).toBe('');
    await expectUrc(fw, '+QMTCONN: 0,0,0');
    expect(performance.now() - started).toBeGreaterThanOrEqual(780);
    await op('latency', { ms: 0 });
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/x",0', '+QMTSUB: 0,1,0,0');

    const bad = await api('POST', '/v1/modems/0/latency', { ms: -1 });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad-latency']);
  });
});
