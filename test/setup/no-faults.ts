/**
 * Every test fails if a modem's last-resort boundary was reached while it ran (src/util/faults.ts):
 * the boundary keeps a process alive in production, but in a test it means a bug.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { faults, type FaultReport } from '../../src/util/faults.js';

let seen: FaultReport[] = [];
const listener = (r: FaultReport): void => {
  seen.push(r);
};
faults.on('fault', listener);

beforeEach(() => {
  seen = [];
});

afterEach(() => {
  const found = seen.map((r) => `${r.modem} (${r.where}): ${r.err instanceof Error ? r.err.stack : String(r.err)}`);
  seen = [];
  expect(found, 'the last-resort boundary was reached').toEqual([]);
});
