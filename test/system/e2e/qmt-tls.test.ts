/**
 * EC200 SSL mode (AT+QMTCFG="ssl",<idx>,1,<ctx>) against the embedded broker's TLS listener: with a
 * state dir vmodem serves MQTT over TLS and the module's SSL opens go there, whatever host it names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, reply, startE2e, urc, useE2eCleanup } from '../../helpers/e2e-harness.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3');

useE2eCleanup();

describe.skipIf(need.missing)(`e2e: EC200 SSL through the PTY${need.note}`, () => {
  it('opens, connects and publishes over TLS when ssl is enabled, and the broker sees a TLS client', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-tls-'));
    onCleanup(() => rmSync(stateDir, { recursive: true, force: true }));
    const { vm, fw } = await startE2e({ stateDir });
    expect(vm.broker!.tlsPort).toBeGreaterThan(0);
    const transports: string[] = [];
    const seen = vm.broker!.onPublish((p) => transports.push(p.topic));
    onCleanup(seen);
    expect(await fw.at('AT+QMTCFG="ssl",0,1,2')).toBe(reply('AT+QMTCFG="ssl",0,1,2'));
    expect(await fw.at('AT+QMTCFG="ssl",0')).toBe(reply('AT+QMTCFG="ssl",0', '+QMTCFG: "ssl",1,2'));
    expect(await fw.at('AT+QMTOPEN=0,"a1zgnxur10j8ux.iot.us-east-1.amazonaws.com",8883')).toBe(reply('AT+QMTOPEN=0,"a1zgnxur10j8ux.iot.us-east-1.amazonaws.com",8883'));
    expect((await fw.readUntil(urc('+QMTOPEN: 0,0'))).text).toBe(urc('+QMTOPEN: 0,0'));
    expect(await fw.at('AT+QMTCONN=0,"M26_0206"')).toBe(reply('AT+QMTCONN=0,"M26_0206"'));
    expect((await fw.readUntil(urc('+QMTCONN: 0,0,0'))).text).toBe(urc('+QMTCONN: 0,0,0'));
    const tlsClients = Object.values((vm.broker!.aedes as unknown as { clients: Record<string, { conn?: { encrypted?: boolean } }> }).clients);
    expect(tlsClients.some((c) => c.conn?.encrypted === true)).toBe(true);
    await fw.send('AT+QMTPUBEX=0,1,1,0,"dev/tls",5\r');
    await fw.readUntil('> ');
    await fw.send('hello');
    await fw.readUntil(urc('+QMTPUBEX: 0,1,0'));
    expect(transports).toContain('dev/tls');

    // Faults apply to SSL links too: the broker side drops the session.
    expect(vm.modems[0]!.controller.dropSession().dropped).toBe(1);
    expect((await fw.readUntil(urc('+QMTSTAT: 0,1'))).text).toBe(urc('+QMTSTAT: 0,1'));
  }, 60_000);
});
