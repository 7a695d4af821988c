/**
 * The issue-13 network faults — registration state, SIM, context deactivation — everywhere the
 * older faults are: the HTTP routes (with their errors), `vmodem ctl`, and scenario actions;
 * each observed by a firmware on the PTY (quectel-ec200, fast timing).
 */
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, ScenarioError } from '../../src/control/scenario.js';
import { openAndConnect, reply, urc, useE2eCleanup } from '../helpers/e2e-harness.js';
import { runMain, useMainCleanup } from '../cli/in-process.js';
import { expectUrc, startControlled } from './helpers.js';

useE2eCleanup();
useMainCleanup();

describe('control API: registration-state, sim, deactivate-context over HTTP', () => {
  it('registration-state: roaming, denied with its reject cause, none and home, as +CEREG URCs with AT+CEREG=5', async () => {
    const { fw, op, api } = await startControlled();
    expect(await fw.at('AT+CEREG=5')).toBe(reply('AT+CEREG=5'));
    expect(await op('registration-state', { state: 'roaming' })).toEqual({ ok: true });
    await expectUrc(fw, '+CEREG: 5,"1A2B","0C8D7F01",7');
    await op('registration-state', { state: 'denied', rejectCause: 11 });
    await expectUrc(fw, '+CEREG: 3,"1A2B","0C8D7F01",7,0,11');
    expect((await api('GET', '/v1/modems/0')).json.network).toMatchObject({ regStat: 3, rejectCause: 11, dataReady: false });
    await op('registration-state', { state: 'none' });
    await expectUrc(fw, '+CEREG: 0');
    await op('registration-state', { state: 'home' });
    await expectUrc(fw, '+CEREG: 1,"1A2B","0C8D7F01",7');

    const post = (body: unknown) => api('POST', '/v1/modems/0/registration-state', body);
    const bad = await post({ state: 'lost' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad-state']);
    const cause = await post({ state: 'denied', rejectCause: 256 });
    expect([cause.status, cause.json.error.code]).toEqual([400, 'bad-cause']);
    const missing = await post({});
    expect([missing.status, missing.json.error.code]).toEqual([400, 'bad-request']);
    expect(missing.json.error.message).toMatch(/missing "state"/);
    expect(await fw.at('AT+CEREG?')).toBe(reply('AT+CEREG?', '+CEREG: 5,1,"1A2B","0C8D7F01",7'));
  });

  it('sim: pulled, the profile’s URC and CME 10 to SIM commands, MQTT links end; put back, its boot URCs and registration', async () => {
    const { fw, op, api } = await startControlled();
    expect(await fw.at('AT+CMEE=1')).toBe(reply('AT+CMEE=1'));
    await openAndConnect(fw, 'sim-dev');
    expect(await op('sim', { present: false })).toEqual({ ok: true });
    const out = (await fw.readUntil(/\+QMTSTAT: 0,\d+\r\n/)).text;
    expect(out.startsWith(urc('+CPIN: NOT READY'))).toBe(true);
    expect(await fw.at('AT+CPIN?')).toBe('AT+CPIN?\r\r\n+CME ERROR: 10\r\n');
    expect(await fw.at('AT+QCCID')).toBe('AT+QCCID\r\r\n+CME ERROR: 10\r\n');
    expect((await api('GET', '/v1/modems/0')).json.network).toMatchObject({ dataReady: false, sim: false });
    await op('sim', { present: true });
    await expectUrc(fw, '+CPIN: READY');
    await expectUrc(fw, '+QIND: SMS DONE');
    await expectUrc(fw, '+QIND: PB DONE');
    expect(await fw.at('AT+CPIN?')).toBe(reply('AT+CPIN?', '+CPIN: READY'));
    expect((await api('GET', '/v1/modems/0')).json.network).toMatchObject({ sim: true });
    await openAndConnect(fw, 'sim-dev');
    const bad = await api('POST', '/v1/modems/0/sim', { present: 'no' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'bad-request']);
  });

  it('deactivate-context: +QIURC: "pdpdeact",1, the MQTT link ends, opens fail until AT+QIACT=1; a context not active is 409', async () => {
    const { fw, op, api } = await startControlled();
    await openAndConnect(fw, 'ctx-dev');
    expect(await op('deactivate-context', {})).toEqual({ ok: true });
    const out = (await fw.readUntil(/\+QMTSTAT: 0,\d+\r\n/)).text;
    expect(out).toContain(urc('+QIURC: "pdpdeact",1'));
    expect(await fw.at('AT+QIACT?')).toBe(reply('AT+QIACT?'));
    expect((await api('GET', '/v1/modems/0')).json.network.contexts).toContainEqual({ cid: 1, active: false });
    const again = await api('POST', '/v1/modems/0/deactivate-context', { cid: 1 });
    expect([again.status, again.json.error]).toEqual([409, { code: 'not-active', message: 'context 1 is not active' }]);
    const badCid = await api('POST', '/v1/modems/0/deactivate-context', { cid: 'one' });
    expect([badCid.status, badCid.json.error.code]).toEqual([400, 'bad-request']);
    expect(await fw.at('AT+QIACT=1')).toBe(reply('AT+QIACT=1'));
    expect(await fw.at('AT+QIACT?')).toBe(reply('AT+QIACT?', '+QIACT: 1,1,1,"10.68.12.34"'));
    expect((await api('GET', '/v1/modems/0')).json.network.contexts).toContainEqual({ cid: 1, active: true });
    await openAndConnect(fw, 'ctx-dev');
  });
});

describe('vmodem ctl registration-state, sim, deactivate-context', () => {
  it('drive the running modem and say what they did; bad words are usage errors (exit 2)', async () => {
    const { fw, url, token } = await startControlled();
    const ctl = (...args: string[]) => runMain(['ctl', '--url', url, '--token', token, ...args]);
    expect(await fw.at('AT+CEREG=3')).toBe(reply('AT+CEREG=3'));

    const denied = await ctl('registration-state', 'denied', '13');
    expect([denied.code, denied.stdout.trim()]).toEqual([0, 'registration denied (cause 13)']);
    await expectUrc(fw, '+CEREG: 3,"1A2B","0C8D7F01",7,0,13');
    expect((await ctl('registration-state', 'home')).code).toBe(0);
    await expectUrc(fw, '+CEREG: 1,"1A2B","0C8D7F01",7');

    const out = await ctl('sim', 'out');
    expect([out.code, out.stdout.trim()]).toEqual([0, 'SIM removed']);
    await expectUrc(fw, '+CPIN: NOT READY');
    await expectUrc(fw, '+CEREG: 0');
    expect((await ctl('sim', 'in')).stdout.trim()).toBe('SIM inserted');
    await expectUrc(fw, '+CPIN: READY');

    await fw.readUntil(urc('+CEREG: 1,"1A2B","0C8D7F01",7'));
    const deact = await ctl('deactivate-context');
    expect([deact.code, deact.stdout.trim()]).toEqual([0, 'context 1 deactivated']);
    expect((await fw.readUntil(urc('+QIURC: "pdpdeact",1'))).text).toContain('+QIURC: "pdpdeact",1');
    const twice = await ctl('deactivate-context', '1');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('context 1 is not active');

    expect((await ctl('registration-state', 'lost')).code).toBe(2);
    expect((await ctl('sim', 'maybe')).code).toBe(2);
    expect((await ctl('deactivate-context', 'x')).code).toBe(2);
  });
});

describe('scenario actions registration-state, sim, deactivate-context', () => {
  it('parse in their short and long forms and refuse bad values with the line', () => {
    const sc = parseScenario(
      [
        'steps:',
        '  - at: 0s',
        '    do:',
        '      - registration-state: roaming',
        '      - registration-state: { state: denied, reject-cause: 15 }',
        '      - sim: out',
        '      - sim: in',
        '      - deactivate-context',
        '      - deactivate-context: 2',
      ].join('\n'),
    );
    expect(sc.steps[0]!.actions.map(({ line: _l, ...a }) => a)).toEqual([
      { op: 'registration-state', state: 'roaming' },
      { op: 'registration-state', state: 'denied', rejectCause: 15 },
      { op: 'sim', present: false },
      { op: 'sim', present: true },
      { op: 'deactivate-context', cid: 1 },
      { op: 'deactivate-context', cid: 2 },
    ]);
    const fail = (text: string) => {
      try {
        parseScenario(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ScenarioError);
        return (err as Error).message;
      }
      throw new Error('parsed');
    };
    expect(fail('steps:\n  - at: 0s\n    do: { registration-state: lost }\n')).toMatch(/line 3.*registration-state must be home or roaming or denied or none/);
    expect(fail('steps:\n  - at: 0s\n    do: { registration-state: { state: denied, reject-cause: 300 } }\n')).toMatch(/the reject cause must be a whole number 0–255/);
    expect(fail('steps:\n  - at: 0s\n    do: { sim: maybe }\n')).toMatch(/sim must be in or out/);
    expect(fail('steps:\n  - at: 0s\n    do: { deactivate-context: 16 }\n')).toMatch(/the context id must be a whole number 1–15/);
  });

  it('run against the modem: SIM out and in, then the network deactivates the context', async () => {
    const { fw, vm } = await startControlled();
    const sc = parseScenario('steps:\n  - at: 0s\n    do: [ { sim: out }, { sim: in }, { registration-state: roaming }, deactivate-context ]\n');
    const run = runScenario(sc, vm);
    await expectUrc(fw, '+CPIN: NOT READY');
    await expectUrc(fw, '+CPIN: READY');
    expect((await fw.readUntil(urc('+QIURC: "pdpdeact",1'))).text).toContain('+QIURC: "pdpdeact",1');
    await run.done;
    expect(run.errors).toEqual([]);
    expect(run.events.filter((e) => e.kind === 'action').map((e) => e.action)).toEqual(['sim out', 'sim in', 'registration-state roaming', 'deactivate-context 1']);
  });
});
