/**
 * The control API's generated token (src/control/http-api.ts): one that began with '-' ("-V…")
 * was taken by commander after `--token` for the -V flag, so `vmodem ctl --token <it> publish …`
 * printed the version instead (seen once in the system suite).
 */
import { describe, expect, it } from 'vitest';
import { generateToken, validToken } from '../../src/control/http-api.js';

describe('the generated control token', () => {
  it('is 24 base64url characters that never start with a dash (5,000 draws; 1 in 64 would)', () => {
    for (let i = 0; i < 5000; i++) {
      const t = generateToken();
      expect(t).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{23}$/);
      expect(validToken(t)).toBe(true);
    }
  });
});
