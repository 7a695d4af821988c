/**
 * Config file mistakes read in one line (issue 14 §9): a YAML syntax error names the line and
 * shows it (no dangling `column 1:`), and "unknown setting" lists each known key once.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config-file.js';

const problem = (text: string, extraKeys?: string[]) => {
  try {
    parseConfig(text, { file: 'vmodem.yaml', ...(extraKeys ? { extraKeys } : {}) });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('no error');
};

describe('config file errors', () => {
  it('a YAML syntax error is one line with the line, column and text of the line', () => {
    expect(problem('mqtt-port: 0\na: b: c\n')).toBe('config vmodem.yaml: not valid YAML: Nested mappings are not allowed in compact mappings (line 2, column 4: "a: b: c")');
  });

  it('an error the parser notices only at the end says so instead of a dangling position', () => {
    const msg = problem('mqtt-port: 0\nmodems:\n  - name: "a\n');
    expect(msg).toBe('config vmodem.yaml: not valid YAML: Missing closing "quote (at the end of the file)');
    expect(msg).not.toMatch(/\n|:$/);
  });

  it('"unknown setting" names each setting once, even when the CLI passes its flags again', () => {
    const msg = problem('mqtt-portt: 0\n', ['mqtt-port', 'profile', 'ready-file']);
    const list = /\(settings: (.*)\)$/.exec(msg)![1]!.split(', ');
    expect(msg).toMatch(/^config vmodem\.yaml line 1: unknown setting "mqtt-portt"/);
    expect(list).toEqual([...new Set(list)]);
    expect(list).toContain('ready-file');
  });
});
