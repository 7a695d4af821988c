/**
 * `npm run fuzz`: the conformance and fuzz suite (test/conformance) by the million. For each
 * profile, batches of generated cases (random and mutated lines from the profile's own command
 * table, pipelined bursts, same-id requests, data mode cut off or flooded, 64 KiB lines, all 256
 * byte values, broker faults) run until at least `--lines` command lines were sent. Prints
 * lines/s, cases, heap after GC, and every failure fast-check found with its shrunk (minimal)
 * counterexample and the seed/path that replays it:
 *
 *   npm run fuzz -- [--profile <id>]... [--lines 1000000] [--batch 32] [--seed <n>]
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run test/conformance/<profile>.test.ts
 *
 * Exit code 1 when any profile had a failure or its heap grew past the bound.
 */
import fc from 'fast-check';
import { batchArb, heapAfterGc, runBatch, type BatchStats } from '../test/conformance/batch.js';
import { PROFILE_IDS } from '../test/conformance/kits.js';
import { profileUnderFuzz } from '../test/conformance/runner.js';

interface Options {
  profiles: string[];
  lines: number;
  batch: number;
  seed: number;
  maxFailures: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { profiles: [], lines: 1_000_000, batch: 32, seed: Date.now() % 1_000_000_007, maxFailures: 3 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--profile' && v) o.profiles.push(v);
    else if (a === '--lines' && v) o.lines = Number(v);
    else if (a === '--batch' && v) o.batch = Number(v);
    else if (a === '--seed' && v) o.seed = Number(v);
    else if (a === '--max-failures' && v) o.maxFailures = Number(v);
    else throw new Error(`unknown argument ${a ?? ''}`);
    i++; // every option takes a value
  }
  if (o.profiles.length === 0) o.profiles = PROFILE_IDS;
  return o;
}

/** Heap growth allowed between the first checkpoint and any later one. */
const HEAP_BOUND = 64 * 1024 * 1024;
/** Batches per fast-check run (each run has its own seed, printed on failure). */
const RUNS_PER_CHUNK = 50;

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MiB`;

interface Summary {
  profile: string;
  lines: number;
  cases: number;
  /** QoS 1/2 deliveries the delivered-message invariant checked. */
  delivered: number;
  seconds: number;
  linesPerSecond: number;
  heapStart: string;
  heapEnd: string;
  heapMaxGrowth: string;
  failures: string[];
}

async function fuzzProfile(id: string, o: Options): Promise<Summary> {
  const p = await profileUnderFuzz(id);
  const stats: BatchStats = { cases: 0, lines: 0 };
  const failures: string[] = [];
  const arb = batchArb(p, o.batch, { maxSteps: 20, hugeLines: true, burstMax: 128 });
  const t0 = performance.now();
  let heapStart: number | undefined;
  let heapEnd = 0;
  let maxGrowth = 0;
  let chunk = 0;
  let lastPrint = 0;
  while (stats.lines < o.lines && failures.length < o.maxFailures) {
    const seed = o.seed + chunk++;
    const details = await fc.check(
      fc.asyncProperty(arb, (cases) => runBatch(p, cases, stats)),
      { numRuns: RUNS_PER_CHUNK, seed },
    );
    if (details.failed) {
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      failures.push(`${fc.defaultReportMessage(details) ?? `failed (seed ${seed})`}\n${cause}`);
      process.stdout.write(`\n${id}: FAILURE (seed ${seed}, path ${details.counterexamplePath ?? ''})\n${failures.at(-1)!.slice(0, 8000)}\n`);
    }
    await p.recycleBroker();
    heapEnd = heapAfterGc();
    heapStart ??= heapEnd;
    maxGrowth = Math.max(maxGrowth, heapEnd - heapStart);
    const now = performance.now();
    if (now - lastPrint > 10_000 || stats.lines >= o.lines) {
      lastPrint = now;
      const s = (now - t0) / 1000;
      process.stdout.write(
        `${id}: ${stats.lines} lines, ${stats.cases} cases, ${Math.round(stats.lines / s)} lines/s, heap ${mib(heapEnd)} (+${mib(heapEnd - heapStart)})\n`,
      );
    }
  }
  await p.close();
  const seconds = (performance.now() - t0) / 1000;
  if (maxGrowth > HEAP_BOUND) failures.push(`heap grew by ${mib(maxGrowth)} (bound ${mib(HEAP_BOUND)})`);
  return {
    profile: id,
    lines: stats.lines,
    cases: stats.cases,
    delivered: stats.delivered ?? 0,
    seconds: Math.round(seconds),
    linesPerSecond: Math.round(stats.lines / seconds),
    heapStart: mib(heapStart ?? 0),
    heapEnd: mib(heapEnd),
    heapMaxGrowth: mib(maxGrowth),
    failures: failures.map((f) => f.slice(0, 4000)),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  process.stdout.write(`fuzz: ${o.profiles.join(', ')}; ${o.lines} lines each; batch ${o.batch}; base seed ${o.seed}\n`);
  const summaries: Summary[] = [];
  for (const id of o.profiles) summaries.push(await fuzzProfile(id, o));
  process.stdout.write('\nsummary\n');
  for (const s of summaries) {
    process.stdout.write(
      `  ${s.profile}: ${s.lines} lines, ${s.cases} cases, ${s.delivered} deliveries checked, ${s.seconds} s, ${s.linesPerSecond} lines/s, heap ${s.heapStart} → ${s.heapEnd} (max growth ${s.heapMaxGrowth}), ${s.failures.length} failure(s)\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(summaries)}\n`);
  process.exitCode = summaries.some((s) => s.failures.length > 0) ? 1 : 0;
}

await main();
