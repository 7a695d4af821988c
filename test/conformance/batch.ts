/**
 * Cases run in batches side by side (each on its own modem, clock and broker tenant): a case
 * spends most of its time waiting for event-loop turns, and a batch shares them. A failing batch
 * reports only its failing cases, each with its violations and steps.
 */
import fc from 'fast-check';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { caseArb, describeCase, type CaseOptions } from './arbitraries.js';
import type { Case } from './harness.js';
import type { ProfileUnderFuzz } from './runner.js';

export interface BatchStats {
  cases: number;
  lines: number;
  /** Deliveries checked by the delivered-message invariant (its reach). */
  delivered?: number;
}

export function batchArb(p: ProfileUnderFuzz, size: number, opts: CaseOptions): fc.Arbitrary<Case[]> {
  // Cases print as their steps (fast-check's counterexample), not as JSON of byte arrays.
  const readable = caseArb(p.corpus, p.kit, opts).map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) }));
  return fc.array(readable, { minLength: size, maxLength: size });
}

/** Run a batch; throws (for fast-check) with every failing case's violations and steps. */
export async function runBatch(p: ProfileUnderFuzz, cases: Case[], stats: BatchStats): Promise<void> {
  const results = await Promise.all(cases.map((c) => p.run(c)));
  const failures: string[] = [];
  results.forEach((r, i) => {
    stats.cases++;
    stats.lines += r.lines;
    stats.delivered = (stats.delivered ?? 0) + r.delivered;
    if (r.violations.length === 0) return;
    failures.push(`case ${i}:\n  ${describeCase(cases[i]!)}\nviolations:\n  ${r.violations.map((v) => v.slice(0, 2000)).join('\n  ')}`);
  });
  if (failures.length > 0) throw new Error(`${p.profile.id}: ${failures.length} failing case(s)\n${failures.join('\n')}`);
}

let gcFn: (() => void) | undefined;

/** Heap in use after a full collection (the flag is set at run time: no node option needed). */
export function heapAfterGc(): number {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
  return process.memoryUsage().heapUsed;
}
