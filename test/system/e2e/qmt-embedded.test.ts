/**
 * End to end through the real PTY against the embedded broker, with mosquitto_sub/mosquitto_pub
 * as third-party MQTT clients: the manual's §5.1 example, QoS 1/2, retained messages, the will,
 * and binary payloads in both directions.
 */
import { describe, expect, it } from 'vitest';
import { mosquittoPub, startMosquittoSub } from '../../helpers/mosquitto.js';
import { atThenUrc, onCleanup, openAndConnect, publishex, reply, startE2e, urc, useE2eCleanup } from '../../helpers/e2e-harness.js';
import { requires } from '../../helpers/requires.js';

const need = requires('python3', 'mosquitto_sub', 'mosquitto_pub');

useE2eCleanup();

/** mosquitto_sub on the embedded broker, killed after the test; `.ready` once subscribed. */
function sub(port: number, topic: string, opts: Parameters<typeof startMosquittoSub>[2] = {}) {
  const s = startMosquittoSub(port, topic, opts);
  onCleanup(() => s.kill());
  return s;
}

describe.skipIf(need.missing)(`e2e: EC200 MQTT through the PTY (embedded broker)${need.note}`, () => {
  it('runs the manual §5.1 example byte for byte', async () => {
    const { vm, fw } = await startE2e();
    const port = vm.broker!.port;

    expect(await fw.at('AT+QMTCFG="recv/mode",0,0,1')).toBe(reply('AT+QMTCFG="recv/mode",0,0,1'));
    expect(await fw.at('AT+QMTCFG="aliauth",0,"oyjtmPI5a5j","MQTT_TEST","wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"')).toBe(
      reply('AT+QMTCFG="aliauth",0,"oyjtmPI5a5j","MQTT_TEST","wN9Y6pZSIly7Exa5qVzcmigEGO4kAazZ"'),
    );
    expect(await fw.at('AT+QMTOPEN=?')).toBe(reply('AT+QMTOPEN=?', '+QMTOPEN: (0-5),"hostname",(1-65535)'));
    await atThenUrc(fw, 'AT+QMTOPEN=0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883', '+QMTOPEN: 0,0');
    expect(await fw.at('AT+QMTOPEN?')).toBe(reply('AT+QMTOPEN?', '+QMTOPEN: 0,"iot-as-mqtt.cn-shanghai.aliyuncs.com",1883'));
    expect(await fw.at('AT+QMTCONN=?')).toBe(reply('AT+QMTCONN=?', '+QMTCONN: (0-5),"clientid","username","password"'));
    await atThenUrc(fw, 'AT+QMTCONN=0,"clientExample"', '+QMTCONN: 0,0,0');
    expect(await fw.at('AT+QMTSUB=?')).toBe(reply('AT+QMTSUB=?', '+QMTSUB: (0-5),<msgid>,list of ["topic",qos]'));
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"topic/example",2', '+QMTSUB: 0,1,0,2');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"topic/pub",0', '+QMTSUB: 0,1,0,0');

    // A third-party client publishes to the subscribed topic.
    await mosquittoPub(port, 'topic/example', 'This is the payload related to topic');
    expect((await fw.readUntil(/\+QMTRECV:[^\r]*\r\n/)).text).toBe(
      urc('+QMTRECV: 0,0,"topic/example",36,"This is the payload related to topic"'),
    );

    await atThenUrc(fw, 'AT+QMTUNS=0,2,"topic/example"', '+QMTUNS: 0,2,0');
    expect(await fw.at('AT+QMTPUBEX=?')).toBe(reply('AT+QMTPUBEX=?', '+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),"topic","length"'));

    // The modem publishes; a third-party subscriber sees it (and so does the modem, subscribed).
    const watcher = sub(port, 'topic/pub');
    await watcher.ready;
    const cmd = 'AT+QMTPUBEX=0,0,0,0,"topic/pub",30';
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    await fw.send('This is test data, hello MQTT.');
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    // +QMTPUBEX (written when the PUBLISH left) and the broker's copy of the message race each
    // other; both must arrive, each as its own framed line.
    const first = (await fw.readUntil(/\+QMT(PUBEX|RECV):[^\r]*\r\n/)).text;
    const second = (await fw.readUntil(/\+QMT(PUBEX|RECV):[^\r]*\r\n/)).text;
    expect([first, second].sort()).toEqual([
      urc('+QMTPUBEX: 0,0,0'),
      urc('+QMTRECV: 0,0,"topic/pub",30,"This is test data, hello MQTT."'),
    ]);
    expect(await watcher.done).toEqual([{ topic: 'topic/pub', payload: 'This is test data, hello MQTT.' }]);

    await atThenUrc(fw, 'AT+QMTDISC=0', '+QMTDISC: 0,0');
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    expect((await fw.drain(100)).toString('latin1')).toBe('');
  });

  it('AT+QMTPUBEX takes exactly <length> bytes (CR, LF, Ctrl+Z included); what follows is the next command', async () => {
    const { vm, fw } = await startE2e();
    await openAndConnect(fw, 'len-dev');
    const watcher = sub(vm.broker!.port, 'dev/len', { hex: true });
    await watcher.ready;
    const payload = Buffer.from('a\r\nb\x1a\x1bc', 'latin1');
    const cmd = `AT+QMTPUBEX=0,0,0,0,"dev/len",${payload.length}`;
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    // Payload and the next command in one write.
    await fw.send(Buffer.concat([payload, Buffer.from('AT+CSQ\r')]));
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    const rest = (await fw.readUntil(/\+CSQ: [^\r]*\r\n\r\nOK\r\n/)).text;
    const pubex = urc('+QMTPUBEX: 0,0,0');
    const csq = reply('AT+CSQ', '+CSQ: 24,99');
    // The URC waits until no command runs: before the echo of AT+CSQ or after its OK.
    expect([pubex + csq, csq]).toContain(rest);
    if (rest === csq) expect((await fw.readUntil(pubex)).text).toBe(pubex);
    const got = await watcher.done;
    expect(got.map((m) => m.payload.toLowerCase())).toEqual([payload.toString('hex')]);
  });

  it('publishes with QoS 1 and QoS 2: OK, then +QMTPUBEX: 0,<msgid>,0 as a separate read', async () => {
    const { vm, fw } = await startE2e();
    await openAndConnect(fw, 'qos-dev');
    const watcher = sub(vm.broker!.port, 'dev/qos/#', { qos: 2, count: 2, withFlags: true });
    await watcher.ready;

    for (const [msgid, qos] of [
      [1, 1],
      [2, 2],
    ] as const) {
      const payload = `qos ${qos} payload`;
      const cmd = `AT+QMTPUBEX=0,${msgid},${qos},0,"dev/qos/${qos}",${payload.length}`;
      expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
      await fw.send(payload);
      // OK is the end of the command; the acknowledgement comes later, on its own.
      const ok = await fw.readUntil('\r\nOK\r\n');
      expect(ok.text).toBe('\r\nOK\r\n');
      const ack = await fw.readUntil(/\r\n\+QMTPUBEX:[^\r]*\r\n/);
      expect(ack.text).toBe(urc(`+QMTPUBEX: 0,${msgid},0`));
    }
    expect(await watcher.done).toEqual([
      { topic: 'dev/qos/1', payload: 'qos 1 payload', qos: 1, retain: false },
      { topic: 'dev/qos/2', payload: 'qos 2 payload', qos: 2, retain: false },
    ]);
  });

  it('a retained message reaches a subscriber that comes later, with the retain flag', async () => {
    const { vm, fw } = await startE2e();
    await openAndConnect(fw, 'retain-dev');
    // QoS 1: the URC comes with the PUBACK, so the broker holds the message by then.
    await publishex(fw, { msgid: 7, qos: 1, retain: true, topic: 'dev/state' }, 'online');

    const late = sub(vm.broker!.port, 'dev/state', { withFlags: true });
    expect(await late.done).toEqual([{ topic: 'dev/state', payload: 'online', qos: 0, retain: true }]);
  });

  it('the will is published when the link dies without DISCONNECT (AT+CFUN=0 → +QMTSTAT: 0,7)', async () => {
    const { vm, fw } = await startE2e();
    expect(await fw.at('AT+QMTCFG="will",0,1,1,0,"dev/will","gone"')).toBe(reply('AT+QMTCFG="will",0,1,1,0,"dev/will","gone"'));
    await openAndConnect(fw, 'will-dev');
    const watcher = sub(vm.broker!.port, 'dev/will', { qos: 1, withFlags: true });
    await watcher.ready;

    await atThenUrc(fw, 'AT+CFUN=0', '+QMTSTAT: 0,7');
    expect(await watcher.done).toEqual([{ topic: 'dev/will', payload: 'gone', qos: 1, retain: false }]);

    // The radio is off: no registration, no client state; back on, the client opens again.
    expect(await fw.at('AT+CREG?')).toBe(reply('AT+CREG?', '+CREG: 0,0'));
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?'));
    expect(await fw.at('AT+CFUN=1')).toBe(reply('AT+CFUN=1'));
    await openAndConnect(fw, 'will-dev');
  });

  it('a clean AT+QMTDISC does not publish the will', async () => {
    const { vm, fw } = await startE2e();
    expect(await fw.at('AT+QMTCFG="will",0,1,0,0,"dev/will2","gone"')).toBe(reply('AT+QMTCFG="will",0,1,0,0,"dev/will2","gone"'));
    await openAndConnect(fw, 'will-dev2');
    const watcher = sub(vm.broker!.port, 'dev/will2', { timeoutMs: 1000 });
    await watcher.ready;
    await atThenUrc(fw, 'AT+QMTDISC=0', '+QMTDISC: 0,0');
    expect(await watcher.done).toEqual([]);
  });

  it('a message arriving during the `> ` prompt is reported after the OK of the publish, never inside it', async () => {
    const { vm, fw } = await startE2e();
    await openAndConnect(fw, 'prompt-dev');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dev/down",1', '+QMTSUB: 0,1,0,1');
    const cmd = 'AT+QMTPUBEX=0,0,0,0,"dev/up",3';
    expect(await fw.at(cmd)).toBe(`${cmd}\r\r\n> `);
    // QoS 1: the broker reports the modem's PUBACK, so the message has reached the modem while
    // the firmware is still in data mode.
    const acked = new Promise<void>((resolve) =>
      vm.broker!.aedes.on('ack', (_packet, client) => {
        if (client?.id === 'prompt-dev') resolve();
      }),
    );
    await mosquittoPub(vm.broker!.port, 'dev/down', 'meanwhile', { qos: 1 });
    await acked;
    expect((await fw.drain(100)).toString('latin1')).toBe('');
    await fw.send('abc');
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    const first = (await fw.readUntil(/\+QMT(PUBEX|RECV):[^\r]*\r\n/)).text;
    const second = (await fw.readUntil(/\+QMT(PUBEX|RECV):[^\r]*\r\n/)).text;
    const [pubex, recv] = [first, second].sort();
    expect(pubex).toBe(urc('+QMTPUBEX: 0,0,0'));
    expect(recv).toMatch(/^\r\n\+QMTRECV: 0,[1-9]\d*,"dev\/down","meanwhile"\r\n$/);
  });

  it('a binary payload with all 256 byte values arrives intact at mosquitto_sub', async () => {
    const { vm, fw } = await startE2e();
    await openAndConnect(fw, 'bin-dev');
    const watcher = sub(vm.broker!.port, 'dev/bin', { hex: true });
    await watcher.ready;
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await publishex(fw, { msgid: 0, qos: 0, topic: 'dev/bin' }, all);
    const got = await watcher.done;
    expect(got).toHaveLength(1);
    expect(got[0]!.payload.toLowerCase()).toBe(all.toString('hex'));
  });

  it('a binary message from the broker reaches the firmware byte for byte in +QMTRECV', async () => {
    const { vm, fw } = await startE2e();
    expect(await fw.at('AT+QMTCFG="recv/mode",0,0,1')).toBe(reply('AT+QMTCFG="recv/mode",0,0,1'));
    await openAndConnect(fw, 'binin-dev');
    await atThenUrc(fw, 'AT+QMTSUB=0,3,"dev/binin",1', '+QMTSUB: 0,3,0,1');
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    await mosquittoPub(vm.broker!.port, 'dev/binin', all);
    const got = await fw.readUntil(/\r\n\+QMTRECV: 0,0,"dev\/binin",256,".{256}"\r\n/);
    expect(got.bytes).toEqual(Buffer.concat([Buffer.from('\r\n+QMTRECV: 0,0,"dev/binin",256,"'), all, Buffer.from('"\r\n')]));
  });
});
