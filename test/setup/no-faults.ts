/**
 * Every test fails if a modem's last-resort boundary was reached while it ran (src/util/faults.ts):
 * the boundary keeps a process alive in production, but in a test it means a bug.
 *
 * `npm test` runs files without isolation (vitest.config.ts): this file is evaluated again for
 * each test file while src/util/faults.ts stays loaded, so the one listener lives on the process
 * (not on this module) and each evaluation only resets what it collected.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { faults, type FaultReport } from '../../src/util/faults.js';

interface Collector {
  seen: FaultReport[];
}
const KEY = Symbol.for('vmodem.test.no-faults');
const g = globalThis as { [KEY]?: Collector };
const collector = g[KEY] ?? (g[KEY] = { seen: [] });
if (!faults.listeners('fault').some((l) => (l as { [KEY]?: true })[KEY])) {
  const listener = Object.assign((r: FaultReport): void => void collector.seen.push(r), { [KEY]: true as const });
  faults.on('fault', listener);
}

beforeEach(() => {
  collector.seen = [];
});

afterEach(() => {
  const found = collector.seen.map((r) => `${r.modem} (${r.where}): ${r.err instanceof Error ? r.err.stack : String(r.err)}`);
  collector.seen = [];
  expect(found, 'the last-resort boundary was reached').toEqual([]);
});
