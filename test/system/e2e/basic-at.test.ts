/**
 * End to end through the real PTY: a python firmware in its own process opens the published link
 * like /dev/ttyUSB0 and checks the exact bytes of basic AT answers, the URC framing, and that a
 * firmware restart leaves the modem (and its MQTT session) as it was.
 */
import { describe, expect, it } from 'vitest';
import { mosquittoPub, startMosquittoSub } from '../../helpers/mosquitto.js';
import { atThenUrc, onCleanup, openAndConnect, publishex, reply, startE2e, urc, useE2eCleanup } from '../../helpers/e2e-harness.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto_sub', 'mosquitto_pub');

useE2eCleanup();

describe.skipIf(need.missing)(`e2e: basic AT through the PTY${need.note}`, () => {
  it('boots with RDY and answers AT, ATI, +CGMR, +CSQ, +CPIN?, +CREG? byte for byte (echo on)', async () => {
    const { fw } = await startE2e();
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await fw.at('ATI')).toBe(reply('ATI', 'Quectel', 'EC200U', 'Revision: EC200UCNAAR03A11M08'));
    expect(await fw.at('AT+CGMR')).toBe(reply('AT+CGMR', 'EC200UCNAAR03A11M08'));
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 24,99'));
    expect(await fw.at('AT+CPIN?')).toBe(reply('AT+CPIN?', '+CPIN: READY'));
    expect(await fw.at('AT+CREG?')).toBe(reply('AT+CREG?', '+CREG: 0,1'));
    expect(await fw.at('AT+NOSUCH')).toBe('AT+NOSUCH\r\r\nERROR\r\n');
    // Nothing else was written.
    expect((await fw.drain(100)).toString('latin1')).toBe('');
  });

  it('ATE0 turns the echo off: the answer is the bare result', async () => {
    const { fw } = await startE2e();
    // The ATE0 line itself is still echoed: echo is switched off while it executes.
    expect(await fw.at('ATE0')).toBe('ATE0\r\r\nOK\r\n');
    expect(await fw.at('AT')).toBe('\r\nOK\r\n');
    expect(await fw.at('AT+CSQ')).toBe('\r\n+CSQ: 24,99\r\n\r\nOK\r\n');
    expect(await fw.at('ATE1')).toBe('\r\nOK\r\n');
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('a command sent in 1-byte writes gets the same answer', async () => {
    const { fw } = await startE2e();
    for (const b of Buffer.from('AT+CGMR\r')) await fw.send(Buffer.from([b]));
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe(reply('AT+CGMR', 'EC200UCNAAR03A11M08'));
  });

  it('a URC is its own write after OK: OK first, +QMTOPEN: 0,0 later', async () => {
    const { vm, fw } = await startE2e();
    const writes: { kind: string; text: string }[] = [];
    vm.modem.engine.on('output', (bytes, kind) => writes.push({ kind, text: bytes.toString('latin1') }));

    const cmd = 'AT+QMTOPEN=0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883';
    const pendingAfterOk: number[] = [];
    for (let round = 0; round < 3; round++) {
      writes.length = 0;
      await fw.send(`${cmd}\r`);
      const ok = await fw.readUntil('\r\nOK\r\n');
      expect(ok.text).toBe(`${cmd}\r\r\nOK\r\n`);
      pendingAfterOk.push(ok.pending);
      const u = await fw.readUntil('\r\n+QMTOPEN: 0,0\r\n');
      expect(u.text).toBe(urc('+QMTOPEN: 0,0'));
      // On the modem side: echo, response, URC — three separate writes, the URC last.
      expect(writes).toEqual([
        { kind: 'echo', text: `${cmd}\r` },
        { kind: 'response', text: '\r\nOK\r\n' },
        { kind: 'urc', text: '\r\n+QMTOPEN: 0,0\r\n' },
      ]);
      await atThenUrc(fw, 'AT+QMTCLOSE=0', '+QMTCLOSE: 0,0');
    }
    // On the firmware side the URC came in a later read than OK (the kernel may merge two writes
    // that are only 1 ms apart when the firmware is slow to read, so not necessarily every time).
    expect(pendingAfterOk.some((n) => n === 0)).toBe(true);
  });

  it('firmware restart: a new process opens the port, the MQTT session is still up and publishing works', async () => {
    const { vm, fw, newFirmware } = await startE2e();
    await openAndConnect(fw, 'restart-dev');
    // The first firmware closes the port and exits.
    await fw.closePort();
    await fw.exit();

    const fw2 = await newFirmware();
    // Nothing is waiting: the modem wrote nothing while no one had the port open.
    expect((await fw2.drain(100)).toString('latin1')).toBe('');
    expect(await fw2.at('AT')).toBe('AT\r\r\nOK\r\n');
    expect(await fw2.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?', '+QMTCONN: 0,3'));

    const sub = startMosquittoSub(vm.broker!.port, 'dev/restart');
    onCleanup(() => sub.kill());
    await sub.ready;
    await publishex(fw2, { msgid: 0, qos: 0, topic: 'dev/restart' }, 'still here');
    expect(await sub.done).toEqual([{ topic: 'dev/restart', payload: 'still here' }]);
  });

  it('firmware killed abruptly (SIGKILL): the next firmware finds the modem answering', async () => {
    const { vm, fw, newFirmware } = await startE2e();
    await openAndConnect(fw, 'killed-dev');
    expect(await fw.at('AT+QMTSUB=0,1,"dev/in",0')).toBe(reply('AT+QMTSUB=0,1,"dev/in",0'));
    expect((await fw.readUntil('\r\n+QMTSUB: 0,1,0,0\r\n')).text).toBe(urc('+QMTSUB: 0,1,0,0'));
    await fw.kill();

    const fw2 = await newFirmware();
    expect(await fw2.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?', '+QMTCONN: 0,3'));
    await mosquittoPub(vm.broker!.port, 'dev/in', 'after restart');
    expect((await fw2.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toBe(urc('+QMTRECV: 0,0,"dev/in","after restart"'));
  });
});
