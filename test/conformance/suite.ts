/**
 * The conformance run of one profile (issue 8 §3; see conformance.test.ts for what is checked).
 * Each profile has its own test file (<profile>.test.ts) so the two test workers share the work.
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

export function conformanceSuite(id: string): void {
  // The seed each profile always had (8000 + its place in the list), so failures replay as before.
  const seed = SEED ?? 8_000 + PROFILE_IDS.indexOf(id);
  describe(`conformance of ${id}`, () => {
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
}
