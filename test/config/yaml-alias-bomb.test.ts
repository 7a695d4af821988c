/**
 * A YAML "billion laughs" file (aliases of aliases) as --config or --scenario: the loaders stop at
 * the alias limit and report one line about the file — a usage error (exit 2), not "unexpected
 * failure" with a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config-file.js';
import { parseScenario, ScenarioError } from '../../src/control/scenario.js';
import { VmodemConfigError } from '../../src/vmodem.js';
import { tmpDir, useCliCleanup } from '../cli/helpers.js';
import { runMain, useMainCleanup } from '../cli/in-process.js';

useCliCleanup();
useMainCleanup();

/** Ten levels of ten aliases each: 10^10 nodes when expanded. */
function bomb(key: string): string {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  lines.push(`${key}: *a9`, '');
  return lines.join('\n');
}

describe('a YAML alias bomb', () => {
  it('as a config file is a VmodemConfigError naming the file', () => {
    let err: unknown;
    try {
      parseConfig(bomb('modems'), { file: 'bomb.yaml' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VmodemConfigError);
    expect((err as Error).message).toMatch(/^config bomb\.yaml: not valid YAML: .*alias/i);
    expect((err as Error).message).not.toContain('\n');
  });

  it('as a scenario file is a ScenarioError naming the file', () => {
    let err: unknown;
    try {
      parseScenario(bomb('steps'), { file: 'bomb.yaml' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as Error).message).toMatch(/^bomb\.yaml: not valid YAML: .*alias/i);
    expect((err as Error).message).not.toContain('\n');
  });

  it('given to vmodem start --config (the CLI in-process) exits 2 with one line', async () => {
    const file = path.join(tmpDir(), 'bomb.yaml');
    fs.writeFileSync(file, bomb('modems'));
    const r = await runMain(['start', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^vmodem: config ${file}: not valid YAML: [^\\n]*alias[^\\n]*\\n$`, 'i'));
  });
});
