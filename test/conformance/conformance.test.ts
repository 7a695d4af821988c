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
 * Replay a failure with the seed and path fast-check prints:
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/conformance/conformance.test.ts
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchArb, heapAfterGc, runBatch, type BatchStats } from './batch.js';
import { PROFILE_IDS } from './kits.js';
import { profileUnderFuzz, type ProfileUnderFuzz } from './runner.js';

const BATCH = 16;
const RUNS = Number(process.env.FUZZ_RUNS ?? 125);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;

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

describe.each(PROFILE_IDS.map((id, i) => ({ id, seed: SEED ?? 8_000 + i })))('conformance of $id', ({ id, seed }) => {
  let p: ProfileUnderFuzz;
  beforeAll(async () => {
    p = await profileUnderFuzz(id);
  });
  afterAll(async () => {
    await p.close();
  });

  it('lists its own commands, each in the forms it registers, for the generators', () => {
    const names = p.corpus.commands.map((c) => c.name);
    expect(names).toContain('+CMEE');
    expect(names.length).toBeGreaterThan(25);
    expect(p.corpus.seedLines.length).toBeGreaterThan(0);
  });

  it('has publishes acknowledged on a healthy broker, so the acknowledged-message check has something to check', async () => {
    const r = await p.run({ connect: true, steps: [{ t: 'publish', qos: 1, payload: 'one' }, { t: 'publish', qos: 0, payload: 'zero' }] });
    expect(r.violations).toEqual([]);
    expect(r.acked).toBe(2);
  });

  it('has QoS 1 deliveries acknowledged on a healthy broker, so the delivered-message check has something to check', async () => {
    const r = await p.run({ connect: true, steps: [{ t: 'subscribe', qos: 1 }, { t: 'broker', ev: 'deliver', qos: 1 }] });
    expect(r.violations).toEqual([]);
    expect(r.delivered).toBe(1);
  });

  it('survives random, mutated and pipelined input with broker faults, and answers AT with OK after every case', async () => {
    const stats: BatchStats = { cases: 0, lines: 0 };
    await fc.assert(
      fc.asyncProperty(batchArb(p, BATCH, { maxSteps: 10, hugeLines: true }), (cases) => runBatch(p, cases, stats)),
      { numRuns: RUNS, seed, path: PATH, endOnFailure: false },
    );
    expect(stats.cases).toBeGreaterThanOrEqual(RUNS * BATCH);
  }, 120_000);

  it('keeps its memory bounded over many cases', async () => {
    const stats: BatchStats = { cases: 0, lines: 0 };
    const arb = batchArb(p, BATCH, { maxSteps: 10, hugeLines: false });
    const run = async (n: number, s: number) => {
      for (const cases of fc.sample(arb, { numRuns: n, seed: s })) await runBatch(p, cases, stats);
    };
    await run(10, seed + 1);
    const before = heapAfterGc();
    await run(20, seed + 2);
    const after = heapAfterGc();
    // 320 more cases (each a modem with its links and buffers) may not leave more than 16 MiB behind.
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
