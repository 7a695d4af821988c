/**
 * The open-file check at start (src/util/fd-limit.ts): a fleet of N connected modems holds about
 * 10 descriptors each, and at the limit it stalls without a word (seen with 2,000 driven modems
 * under `ulimit -n 20000`), so vmodem start warns first.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fdLimitWarning, openFileLimit } from '../../src/util/fd-limit.js';

describe('the open-file limit and the fleet size', () => {
  it('reads the soft limit from a limits file, and nothing where it is unlimited or missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-limits-'));
    try {
      const file = path.join(dir, 'limits');
      fs.writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                40000                files     \n');
      expect(openFileLimit(file)).toBe(20000);
      fs.writeFileSync(file, 'Max open files            unlimited            unlimited            files     \n');
      expect(openFileLimit(file)).toBeUndefined();
      expect(openFileLimit(path.join(dir, 'missing'))).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // This process has one (Linux).
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('warns when the modems would not fit, naming the limit and what to do', () => {
    expect(fdLimitWarning(1000, 20000)).toBeUndefined();
    expect(fdLimitWarning(2000, 20000)).toBe(
      '2000 modems may need about 20100 open files once connected (10 each: PTY, driver, MQTT link, fault proxy, broker), more than this process\'s limit of 20000; raise it (ulimit -n 20100) or spread the modems over --cluster nodes',
    );
    expect(fdLimitWarning(5000, undefined)).toBeUndefined();
  });
});
