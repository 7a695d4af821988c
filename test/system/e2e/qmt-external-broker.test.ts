/**
 * End to end through the real PTY against an external broker (a real Debian mosquitto, passed as
 * `broker: 'mqtt://127.0.0.1:PORT'`): the broker dying mid-session, refused credentials, and
 * third-party clients on that broker.
 */
import { describe, expect, it } from 'vitest';
import { startMosquitto, startMosquittoSub, type StartMosquittoOptions } from '../../helpers/mosquitto.js';
import { atThenUrc, onCleanup, openAndConnect, publishex, reply, startE2e, urc, useE2eCleanup } from '../../helpers/e2e-harness.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto', 'mosquitto_sub');

useE2eCleanup();

async function mosquitto(opts: StartMosquittoOptions = {}) {
  const m = await startMosquitto(opts);
  onCleanup(() => m.stop());
  return m;
}

describe.skipIf(need.missing)(`e2e: EC200 MQTT through the PTY (external mosquitto)${need.note}`, () => {
  it('uses the external broker and starts no embedded one', async () => {
    const m = await mosquitto();
    const { vm, fw } = await startE2e({ broker: `mqtt://127.0.0.1:${m.port}` });
    expect(vm.broker).toBeUndefined();
    expect(vm.brokerUrl).toBe(`mqtt://127.0.0.1:${m.port}`);

    await openAndConnect(fw, 'ext-dev');
    const watcher = startMosquittoSub(m.port, 'dev/ext', { qos: 1 });
    onCleanup(() => watcher.kill());
    await watcher.ready;
    await publishex(fw, { msgid: 3, qos: 1, topic: 'dev/ext' }, 'via mosquitto');
    expect(await watcher.done).toEqual([{ topic: 'dev/ext', payload: 'via mosquitto' }]);
  });

  it('broker dies mid-session: +QMTSTAT: 0,1, and the modem still answers AT', async () => {
    const m = await mosquitto();
    const { fw } = await startE2e({ broker: `mqtt://127.0.0.1:${m.port}` });
    await openAndConnect(fw, 'doomed-dev');

    await m.kill();
    expect((await fw.readUntil(/\r\n\+QMTSTAT:[^\r]*\r\n/)).text).toBe(urc('+QMTSTAT: 0,1'));
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    // The client is back to idle: no state to report, and a new open fails (nothing listens).
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?'));
    await atThenUrc(fw, 'AT+QMTOPEN=0,"broker.example.com",1883', '+QMTOPEN: 0,-1');
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('a broker that stops answering: +QMTPING: 0,1 and +QMTSTAT: 0,2 after the keepalive', async () => {
    const m = await mosquitto();
    onCleanup(() => {
      try {
        process.kill(m.pid, 'SIGCONT');
      } catch {
        /* already gone */
      }
    });
    const { fw } = await startE2e({ broker: `mqtt://127.0.0.1:${m.port}` });
    expect(await fw.at('AT+QMTCFG="keepalive",0,1')).toBe(reply('AT+QMTCFG="keepalive",0,1'));
    await openAndConnect(fw, 'frozen-dev');
    process.kill(m.pid, 'SIGSTOP');
    expect((await fw.readUntil(/\+QMTSTAT:[^\r]*\r\n/, 15_000)).text).toBe(urc('+QMTPING: 0,1') + urc('+QMTSTAT: 0,2'));
    process.kill(m.pid, 'SIGCONT');
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
  });

  it('a wrong password is refused with +QMTCONN: 0,0,5; the right one connects', async () => {
    const m = await mosquitto({ passwordFile: { user: 'user', pass: 's3cret-pass' } });
    const { fw } = await startE2e({ broker: `mqtt://127.0.0.1:${m.port}` });

    await atThenUrc(fw, 'AT+QMTOPEN=0,"broker.example.com",1883', '+QMTOPEN: 0,0');
    await atThenUrc(fw, 'AT+QMTCONN=0,"c","user","wrong"', '+QMTCONN: 0,0,5');
    // After a refusing CONNACK the broker closes the connection [MQTT-3.2.2-5].
    expect((await fw.readUntil(/\r\n\+QMTSTAT:[^\r]*\r\n/)).text).toBe(urc('+QMTSTAT: 0,1'));
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?'));

    await openAndConnect(fw, 'c', ',"user","s3cret-pass"');
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?', '+QMTCONN: 0,3'));
  });
});
