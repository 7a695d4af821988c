/**
 * Cloud-side operations driven through the HTTP API, observed where the firmware sees them (the
 * exact quectel-ec200 URCs on the PTY) and on the broker (an independent MQTT client).
 */
import { describe, expect, it } from 'vitest';
import { startMqttSub } from '../helpers/mqtt-peer.js';
import { atThenUrc, onCleanup, openAndConnect, publishex, reply, urc, useE2eCleanup } from '../helpers/e2e-harness.js';
import { expectUrc, startControlled } from './helpers.js';

useE2eCleanup();

describe('control API: cloud side (quectel-ec200 through the PTY)', () => {
  it('publish reaches the firmware as +QMTRECV (text, hex, base64 payloads; QoS; retain)', async () => {
    const { fw, op } = await startControlled();
    await openAndConnect(fw, 'pub-dev');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/down",1', '+QMTSUB: 0,1,0,1');

    expect(await op('publish', { topic: 'dev/down', payload: '{"led":1}', qos: 1 })).toEqual({ ok: true, bytes: 9 });
    expect((await fw.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toMatch(/^\r\n\+QMTRECV: 0,\d+,"dev\/down","\{"led":1\}"\r\n$/);

    expect(await op('publish', { topic: 'dev/down', payloadHex: '414243' })).toEqual({ ok: true, bytes: 3 });
    expect((await fw.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toBe(urc('+QMTRECV: 0,0,"dev/down","ABC"'));

    expect(await op('publish', { topic: 'dev/down', payloadBase64: Buffer.from('hi there').toString('base64') })).toEqual({ ok: true, bytes: 8 });
    expect((await fw.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toBe(urc('+QMTRECV: 0,0,"dev/down","hi there"'));

    // Retained: a subscription made later still gets it.
    await op('publish', { topic: 'dev/config', payload: 'v2', retain: true });
    expect(await fw.at('AT+QMTSUB=0,2,"dev/config",0')).toBe(reply('AT+QMTSUB=0,2,"dev/config",0'));
    // The SUBACK's URC and the retained message race each other; both must come.
    const first = (await fw.readUntil(/\+QMT(SUB|RECV):[^\r]*\r\n/)).text;
    const second = (await fw.readUntil(/\+QMT(SUB|RECV):[^\r]*\r\n/)).text;
    expect([first, second].sort()).toEqual([urc('+QMTRECV: 0,0,"dev/config","v2"'), urc('+QMTSUB: 0,2,0,0')]);
  });

  it('published lists what the firmware published (checked against an independent subscriber); wait-for-publish waits for it', async () => {
    const { vm, fw, api, op } = await startControlled();
    await openAndConnect(fw, 'up-dev');
    const sub = startMqttSub(vm.broker!.port, 'dev/up/#', { count: 2, qos: 1 });
    onCleanup(() => sub.kill());
    await sub.ready;

    // Waiting first: the answer comes when the firmware publishes.
    const waiting = op('wait-for-publish', { topic: 'dev/up/#', payload: 'hello', timeoutMs: 10_000 });
    await publishex(fw, { msgid: 1, qos: 1, topic: 'dev/up/a' }, 'hello');
    await publishex(fw, { msgid: 0, qos: 0, topic: 'dev/up/b' }, Buffer.from([0xff, 0x00, 0x80]));
    expect((await waiting).publish).toMatchObject({ clientId: 'up-dev', topic: 'dev/up/a', payload: 'hello', payloadHex: '68656c6c6f', qos: 1, retain: false });

    const seen = await sub.done;
    expect(seen.map((m) => m.topic)).toEqual(['dev/up/a', 'dev/up/b']);
    expect(seen[0]!.payload).toBe('hello');

    const all = await api('GET', '/v1/modems/0/published');
    expect(all.status).toBe(200);
    expect(all.json.publishes.map((p: { topic: string; payload: string | null; payloadHex: string; qos: number }) => [p.topic, p.payload, p.payloadHex, p.qos])).toEqual([
      ['dev/up/a', 'hello', '68656c6c6f', 1],
      ['dev/up/b', null, 'ff0080', 0], // not UTF-8: no text, hex only
    ]);
    const filtered = await api('GET', `/v1/modems/0/published?topic=${encodeURIComponent('dev/up/b')}`);
    expect(filtered.json.publishes.map((p: { topic: string }) => p.topic)).toEqual(['dev/up/b']);

    // Nothing matching within the wait: 408 with code "timeout".
    const none = await api('POST', '/v1/modems/0/wait-for-publish', { topic: 'never/+', timeoutMs: 200 });
    expect(none.status).toBe(408);
    expect(none.json.error.code).toBe('timeout');
  });

  it('drop closes the session from the broker side: +QMTSTAT: 0,1', async () => {
    const { fw, op } = await startControlled();
    await openAndConnect(fw, 'drop-dev');
    expect(await op('drop')).toEqual({ ok: true, dropped: 1 });
    await expectUrc(fw, '+QMTSTAT: 0,1');
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?'));
    // The firmware can come back.
    await openAndConnect(fw, 'drop-dev');
  });

  it('stall makes the keepalive run out: +QMTPING: 0,1 then +QMTSTAT: 0,2; un-stalled, it reconnects', async () => {
    const { fw, op, api } = await startControlled();
    expect(await fw.at('AT+QMTCFG="keepalive",0,1')).toBe(reply('AT+QMTCFG="keepalive",0,1'));
    await openAndConnect(fw, 'stall-dev');
    await op('stall', { on: true });
    expect((await api('GET', '/v1/modems/0')).json.faults.stalled).toBe(true);
    const got = (await fw.readUntil(/\+QMTSTAT:[^\r]*\r\n/, 15_000)).text;
    expect(got).toBe(urc('+QMTPING: 0,1') + urc('+QMTSTAT: 0,2'));
    await op('stall', { on: false });
    await openAndConnect(fw, 'stall-dev');
  });

  it('refuse-connect 5 refuses the next CONNECT: +QMTCONN: 0,0,5 (then +QMTSTAT: 0,1); the one after is accepted', async () => {
    const { fw, op } = await startControlled();
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,0');
    await op('refuse-connect', { returnCode: 5 });
    await atThenUrc(fw, 'AT+QMTCONN=0,"refused-dev"', '+QMTCONN: 0,0,5');
    await expectUrc(fw, '+QMTSTAT: 0,1');
    await openAndConnect(fw, 'refused-dev');
  });

  it('refuse-subscribe answers 128 for matching filters: +QMTSUB: 0,1,0,128; null stops refusing', async () => {
    const { fw, op } = await startControlled();
    await openAndConnect(fw, 'sub-dev');
    await op('refuse-subscribe', { filter: 'dev/secret/#' });
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/secret/x",1', '+QMTSUB: 0,1,0,128');
    await atThenUrc(fw, 'AT+QMTSUB=0,2,"dev/open",1', '+QMTSUB: 0,2,0,1');
    await op('refuse-subscribe', { filter: null });
    await atThenUrc(fw, 'AT+QMTSUB=0,3,"dev/secret/x",1', '+QMTSUB: 0,3,0,1');
  });

  it('refuse-publish: the broker drops the client on a matching PUBLISH; nothing is delivered', async () => {
    const { vm, fw, op, api } = await startControlled();
    await openAndConnect(fw, 'rp-dev');
    const sub = startMqttSub(vm.broker!.port, 'dev/forbidden', { timeoutMs: 1000 });
    onCleanup(() => sub.kill());
    await sub.ready;
    await op('refuse-publish', { filter: 'dev/forbidden' });
    const cmd = 'AT+QMTPUBEX=0,1,1,0,"dev/forbidden",4';
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    await fw.send('nope');
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    // The link dies with the message unacknowledged: the publish fails and the link is reported closed.
    const a = (await fw.readUntil(/\+QMT(PUBEX|STAT):[^\r]*\r\n/)).text;
    const b = (await fw.readUntil(/\+QMT(PUBEX|STAT):[^\r]*\r\n/)).text;
    expect([a, b].sort()).toEqual([urc('+QMTPUBEX: 0,1,2'), urc('+QMTSTAT: 0,1')]);
    expect(await sub.done).toEqual([]);
    expect((await api('GET', '/v1/modems/0/published')).json.publishes).toEqual([]);
    await op('refuse-publish', { filter: null });
    await openAndConnect(fw, 'rp-dev');
    await publishex(fw, { msgid: 2, qos: 1, topic: 'dev/forbidden' }, 'ok now');
  });

  it('ack-fault withholds PUBACK: +QMTPUBEX: 0,1,1,1 (retransmission) then 0,1,2 and +QMTSTAT: 0,6', async () => {
    const { fw, op } = await startControlled();
    expect(await fw.at('AT+QMTCFG="timeout",0,1,1,1')).toBe(reply('AT+QMTCFG="timeout",0,1,1,1'));
    await openAndConnect(fw, 'ack-dev');
    await op('ack-fault', { kind: 'puback', delayMs: null });
    const cmd = 'AT+QMTPUBEX=0,1,1,0,"dev/up",5';
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    await fw.send('hello');
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    await expectUrc(fw, '+QMTPUBEX: 0,1,1,1');
    await expectUrc(fw, '+QMTPUBEX: 0,1,2');
    await expectUrc(fw, '+QMTSTAT: 0,6');
    // Back to normal acknowledgements.
    await op('ack-fault', { kind: 'puback', delayMs: 'normal' });
    await openAndConnect(fw, 'ack-dev');
    await publishex(fw, { msgid: 2, qos: 1, topic: 'dev/up' }, 'hello');
  });

  it('ack-fault delays SUBACK: nothing before the delay, then +QMTSUB: 0,1,0,1', async () => {
    const { fw, op } = await startControlled();
    await openAndConnect(fw, 'suback-dev');
    await op('ack-fault', { kind: 'suback', delayMs: 600 });
    const started = performance.now();
    expect(await fw.at('AT+QMTSUB=0,1,"dev/slow",1')).toBe(reply('AT+QMTSUB=0,1,"dev/slow",1'));
    await expectUrc(fw, '+QMTSUB: 0,1,0,1');
    // A lower bound only: the SUBACK cannot have come before the delay.
    expect(performance.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('broker down: +QMTSTAT: 0,1, the next open fails with +QMTOPEN: 0,-1; broker up: opens again', async () => {
    const { fw, op, api } = await startControlled();
    await openAndConnect(fw, 'bd-dev');
    await op('broker', { up: false });
    await expectUrc(fw, '+QMTSTAT: 0,1');
    await atThenUrc(fw, 'AT+QMTOPEN=0,"mqtt.example.com",1883', '+QMTOPEN: 0,-1');
    expect((await api('GET', '/v1/modems/0')).json.faults.down).toBe(true);
    await op('broker', { up: true });
    await openAndConnect(fw, 'bd-dev');
  });
});
