/**
 * The conformance and fuzz suite (issue 8 §3), on every profile: random and mutated command lines
 * built from the profile's own command table and transcripts, pipelined bursts, same-id requests,
 * data mode cut off or flooded, 64 KiB lines and all 256 byte values, interleaved with broker
 * faults. After each case the modem must be alive and answer `AT` with OK; every final result must
 * be well-formed, no URC may land inside a response, a message the module reported as sent
 * must have reached the broker, and a QoS 1/2 message the module acknowledged to the broker must
 * have reached the firmware or sit in the module's buffer (see harness.ts). `npm run fuzz` runs
 * the same cases by the million.
 *
 * This file tests the harness itself; each profile's run is in <profile>.test.ts (suite.ts), one
 * file per profile so the test workers share them. Replay a failure with the seed and path
 * fast-check prints:
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/conformance/<profile>.test.ts
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_IDS } from './kits.js';
import { profileUnderFuzz, type ProfileUnderFuzz } from './runner.js';

describe('the conformance files', () => {
  it('cover every profile, each in its own file', () => {
    const dir = path.dirname(fileURLToPath(import.meta.url));
    for (const id of PROFILE_IDS) expect(existsSync(path.join(dir, `${id}.test.ts`)), id).toBe(true);
    expect(PROFILE_IDS.length).toBeGreaterThanOrEqual(5);
  });
});

describe('the harness itself', () => {
  let p: ProfileUnderFuzz;
  beforeAll(async () => {
    p = await profileUnderFuzz('quectel-ec200');
  });
  afterAll(async () => {
    await p.close();
  });
  const csq = { connect: false, steps: [{ t: 'line' as const, text: Buffer.from('AT+CSQ') }] };

  it('reports a URC written while a command runs', async () => {
    const r = await p.run(csq, {
      tamper: (m) => {
        m.engine.interceptor = (c) => {
          if (c.name === '+CSQ') m.engine.writeRaw('\r\n+FAKE: 1\r\n');
          return undefined;
        };
      },
    });
    expect(r.violations.join('\n')).toMatch(/URC inside a response/);
  });

  it('reports a response without a final result code', async () => {
    const r = await p.run(csq, { tamper: (m) => (m.engine.interceptor = (c) => (c.name === '+CSQ' ? { type: 'silent', lines: ['+CSQ: 1,2'] } : undefined)) });
    expect(r.violations.join('\n')).toMatch(/no final result code/);
  });

  it('reports a modem that never comes back to AT', async () => {
    const r = await p.run(csq, {
      tamper: (m) =>
        (m.engine.interceptor = (c) =>
          c.name === '+CSQ' ? { type: 'prompt', spec: { mode: 'fixed', length: 1e9, idleTimeoutMs: 0 }, onData: () => ({ type: 'ok', lines: [] }) } : undefined),
    });
    expect(r.violations.join('\n')).toMatch(/still busy in data mode/);
  });

  const line = (text: string) => ({ t: 'line' as const, text: Buffer.from(text, 'latin1') });
  const deliver = { t: 'broker' as const, ev: 'deliver' as const, qos: 1 as const };

  it('reports a delivered QoS 1 message the module acknowledged but never passed on', async () => {
    const r = await p.run(
      { connect: true, steps: [{ t: 'subscribe', qos: 1 }, deliver] },
      {
        // A module that loses what it received: its +QMTRECV never reaches the firmware.
        tamper: (m) => {
          const urc = m.engine.urc.bind(m.engine);
          m.engine.urc = (l, o) => (String(l).includes('Qz7') ? undefined : urc(l, o));
        },
      },
    );
    expect(r.violations.join('\n')).toMatch(/acknowledged QoS 1 delivery Qz7c\d+n\d+zQ to the broker but neither wrote it/);
  });

  it('finds delivered messages in the receive buffer, read back as hex text when dataformat asks for it', async () => {
    // EC200 MQTT AN §3.3.1 (set before AT+QMTOPEN): recv/mode 1 keeps messages for AT+QMTRECV,
    // dataformat <recv_mode> 1 writes payloads as hex. Only +QMTRECV: 0,<recv_id> is written, so
    // the check has to read the buffer and recognise the hex form.
    const out: string[] = [];
    const r = await p.run(
      {
        connect: false,
        steps: [
          line('AT+QMTCFG="recv/mode",0,1'),
          line('AT+QMTCFG="dataformat",0,0,1'),
          line('AT+QMTOPEN=0,"broker.local",1883'),
          line('AT+QMTCONN=0,"fz-buffered"'),
          { t: 'subscribe', qos: 1 },
          deliver,
          deliver,
        ],
      },
      { tamper: (m) => m.engine.on('output', (b) => out.push(b.toString('latin1'))) },
    );
    expect(r.violations).toEqual([]);
    expect(r.delivered).toBe(2);
    expect(out.join('')).toMatch(/\+QMTRECV: 0,0\r\n[^]*\+QMTRECV: 0,1\r\n[^]*\+QMTRECV: 0,\d+,"fz\/in\/\d+\/x","(?:[0-9A-F]{2})+"/);
  });
});
