/**
 * Serial-side operations through the HTTP API, observed on the PTY (quectel-ec200).
 */
import { describe, expect, it } from 'vitest';
import { openAndConnect, reply, urc, useE2eCleanup } from '../helpers/e2e-harness.js';
import { startControlled } from './helpers.js';

useE2eCleanup();

describe('control API: serial side (quectel-ec200 through the PTY)', () => {
  it('override once answers the next matching command only, then the module answers again', async () => {
    const { fw, op, api } = await startControlled();
    await op('override', { command: '+CSQ', response: ['+CSQ: 5,99', 'OK'], once: true });
    expect((await api('GET', '/v1/modems/0')).json.serial.overrides).toBe(1);
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 5,99'));
    expect(await fw.at('AT+CSQ')).toBe(reply('AT+CSQ', '+CSQ: 24,99'));
    expect((await api('GET', '/v1/modems/0')).json.serial.overrides).toBe(0);
  });

  it('a sticky override stays until DELETE /overrides; final codes ERROR and +CME ERROR work', async () => {
    const { fw, op, api } = await startControlled();
    await op('override', { command: 'AT+CGMR', response: ['ERROR'] });
    await op('override', { command: '+CPIN', response: ['+CME ERROR: 10'] });
    for (let i = 0; i < 2; i++) {
      expect(await fw.at('AT+CGMR')).toBe('AT+CGMR\r\r\nERROR\r\n');
      expect(await fw.at('AT+CPIN?')).toBe('AT+CPIN?\r\r\n+CME ERROR: 10\r\n');
    }
    const del = await api('DELETE', '/v1/modems/0/overrides');
    expect([del.status, del.json]).toEqual([200, { ok: true }]);
    expect(await fw.at('AT+CGMR')).toMatch(/^AT\+CGMR\r\r\n[^\r]+\r\n\r\nOK\r\n$/);
    expect(await fw.at('AT+CPIN?')).toBe(reply('AT+CPIN?', '+CPIN: READY'));
  });

  it('an override for one form (+CREG? or "form") leaves the other forms alone', async () => {
    const { fw, op } = await startControlled();
    await op('override', { command: 'AT+CREG?', response: ['+CREG: 0,3', 'OK'] });
    await op('override', { command: '+CEREG', form: 'test', response: ['+CEREG: (9)', 'OK'] });
    expect(await fw.at('AT+CREG?')).toBe(reply('AT+CREG?', '+CREG: 0,3'));
    expect(await fw.at('AT+CREG=0')).toBe(reply('AT+CREG=0'));
    expect(await fw.at('AT+CEREG=?')).toBe(reply('AT+CEREG=?', '+CEREG: (9)'));
    expect(await fw.at('AT+CEREG?')).toBe(reply('AT+CEREG?', '+CEREG: 0,1'));
  });

  it('response-delay holds every final response; 0 restores', async () => {
    const { fw, op, api } = await startControlled();
    await op('response-delay', { ms: 400 });
    expect((await api('GET', '/v1/modems/0')).json.serial.responseDelayMs).toBe(400);
    const started = performance.now();
    await fw.send('AT\r');
    // The echo comes at once, the result only after the delay (a lower bound only).
    expect((await fw.readUntil('AT\r')).text).toBe('AT\r');
    expect((await fw.drain(200)).toString('latin1')).toBe('');
    expect((await fw.readUntil('\r\nOK\r\n')).text).toBe('\r\nOK\r\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
    await op('response-delay', { ms: 0 });
    expect(await fw.at('AT')).toBe(reply('AT'));
  });

  it('baud paces the output: the same bytes arrive, a few at a time, while the rest waits in the pacer', async () => {
    const { vm, fw, op, api } = await startControlled();
    const unpaced = await fw.at('ATI');
    await op('baud', { baud: 2400 });
    expect((await api('GET', '/v1/modems/0')).json.serial.baud).toBe(2400);
    const serial = vm.modems[0]!.serial;
    await fw.send('ATI\r');
    let sawPending = false;
    const deadline = Date.now() + 2000;
    while (!sawPending && Date.now() < deadline) {
      sawPending = serial.pendingBytes() > 0;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(sawPending, 'bytes waited in the pacer').toBe(true);
    const paced = await fw.readUntil('\r\nOK\r\n');
    expect(paced.text).toBe(unpaced);
    // 240 bytes/s in 5 ms ticks: the reply cannot arrive in one piece.
    expect(paced.chunks.length).toBeGreaterThan(3);
    await op('baud', { baud: 0 });
    expect(await fw.at('ATI')).toBe(unpaced);
    const bad = await api('POST', '/v1/modems/0/baud', { baud: 1.5 });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad-baud']);
  });

  it('inject writes junk bytes (hex, text, base64) to the firmware; the modem keeps answering', async () => {
    const { fw, op } = await startControlled();
    expect(await op('inject', { hex: '00ff1b0d' })).toEqual({ ok: true, bytes: 4 });
    expect((await fw.readUntil(Buffer.from([0x00, 0xff, 0x1b, 0x0d]))).bytes).toEqual(Buffer.from([0x00, 0xff, 0x1b, 0x0d]));
    await op('inject', { text: '+QMTSTAT: 9,9\r\n' });
    expect((await fw.readUntil('+QMTSTAT: 9,9\r\n')).text).toBe('+QMTSTAT: 9,9\r\n');
    await op('inject', { base64: Buffer.from('~~noise~~').toString('base64') });
    expect((await fw.readUntil('~~noise~~')).text).toBe('~~noise~~');
    expect(await fw.at('AT')).toBe(reply('AT'));
  });

  it('reboot: RDY again, MQTT state and settings gone', async () => {
    const { fw, op, api } = await startControlled();
    await openAndConnect(fw, 'reboot-dev');
    expect((await api('GET', '/v1/modems/0')).json.mqtt['quectel-qmt-ec200'][0].state).toBe('connected');
    expect(await fw.at('ATE0')).toBe('ATE0\r\r\nOK\r\n');
    expect(await fw.at('AT')).toBe('\r\nOK\r\n');
    await op('reboot');
    expect((await fw.readUntil('RDY\r\n')).text).toBe(urc('RDY'));
    // The rest of the EC200 boot sequence follows RDY (profiles/quectel-ec200.json settings.radio.bootUrcs).
    expect((await fw.readUntil('+QIND: PB DONE\r\n')).text).toBe(['+CFUN: 1', '+CPIN: READY', '+QIND: SMS DONE', '+QIND: PB DONE'].map(urc).join(''));
    // Echo is back on (power-on default) and no client is open.
    expect(await fw.at('AT')).toBe(reply('AT'));
    expect(await fw.at('AT+QMTCONN?')).toBe(reply('AT+QMTCONN?'));
    expect((await api('GET', '/v1/modems/0')).json.mqtt['quectel-qmt-ec200'][0].state).toBe('idle');
  });
});
