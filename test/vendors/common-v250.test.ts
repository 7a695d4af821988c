/** V.250 basics firmware init sequences send: ATV, ATQ, AT&C, AT&D, S-registers. */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

let m: MemoryModem;
afterEach(() => m.stop());

async function raw(modem: MemoryModem, line: string, until: RegExp): Promise<string> {
  modem.clear();
  modem.send(`${line}\r`);
  return modem.waitFor(until);
}

describe('V.250 result formatting', () => {
  it('answers numeric result codes after ATV0 and verbose ones after ATV1', async () => {
    m = createMemoryModem();
    expect(await raw(m, 'ATV0', /0\r$/)).toBe('0\r');
    expect(await raw(m, 'AT+CSQ', /0\r$/)).toBe('+CSQ: 24,99\r\n0\r');
    expect(await raw(m, 'AT+NOPE', /4\r$/)).toBe('4\r');
    expect(await raw(m, 'ATV1', /OK\r\n$/)).toBe('\r\nOK\r\n');
  });

  it('suppresses final result codes after ATQ1 and restores them with ATZ', async () => {
    m = createMemoryModem();
    m.clear();
    m.send('ATQ1\r');
    m.send('AT+CGMI\r');
    await m.waitFor('Quectel\r\n');
    expect(m.output()).toBe('\r\nQuectel\r\n');
    m.send('ATZ\r');
    expect(await m.at('AT')).toBe('\r\nOK\r\n');
  });

  it('accepts AT&C and AT&D as firmware init sequences send them, and refuses out-of-range values', async () => {
    m = createMemoryModem();
    expect(await m.at('AT&C1&D2')).toBe('\r\nOK\r\n');
    expect(await m.at('AT&D0')).toBe('\r\nOK\r\n');
    expect(await m.at('AT&D3')).toBe('\r\nERROR\r\n');
  });

  it('reports S3, S4 and S5 as three digits and refuses another line terminator', async () => {
    m = createMemoryModem();
    expect(await m.at('ATS3?')).toBe('\r\n013\r\n\r\nOK\r\n');
    expect(await m.at('ATS4?')).toBe('\r\n010\r\n\r\nOK\r\n');
    expect(await m.at('ATS5?')).toBe('\r\n008\r\n\r\nOK\r\n');
    expect(await m.at('ATS3=13')).toBe('\r\nOK\r\n');
    expect(await m.at('ATS3=10')).toBe('\r\n+CME ERROR: 4\r\n');
  });
});
