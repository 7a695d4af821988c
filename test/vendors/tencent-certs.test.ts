/**
 * Tencent IoT AT §2.3–§2.5, byte for byte: AT+TCCERTADD (prompt, exactly <cert_size> bytes or a
 * Ctrl+Z, the driver's CRLF dropped, a sender that goes silent), AT+TCCERTCHECK (really parses the
 * PEM) and AT+TCCERTDEL, with their read forms and bad input — on tencent-qcloud-cellular: the
 * ESP8266 build has no certificate commands (Tencent's test reports, profile notes).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cellular, cme, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'tencent-qcloud-cellular');
const CERT = readFileSync(path.join(FIXTURES, 'general_cdev1_cert.crt'));
const KEY = readFileSync(path.join(FIXTURES, 'general_cdev1_private.key'));
const PROMPT = '\r\nOK\r\n\r\n>\r\n';

const running: TencentHarness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});
async function tc(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const h = await startTencent(cellular(opts));
  running.push(h);
  return h;
}
const shortIdle = (ms: number): HarnessOptions => ({ tweak: (p) => void (p.timing.dataIdleTimeout = ms) });

async function add(h: TencentHarness, name: string, data: Buffer, trailer = '\r\n'): Promise<string> {
  expect(await h.at(`AT+TCCERTADD="${name}",${data.length}`)).toBe(PROMPT);
  h.clear();
  h.send(Buffer.concat([data, Buffer.from(trailer, 'latin1')]));
  return h.waitFor(/\r\n\+TCCERTADD:[^\r]*\r\n/);
}

describe('AT+TCCERTADD (§2.3)', () => {
  it('prompts after OK, takes exactly <cert_size> bytes, drops the CRLF after them, and stores the file', async () => {
    const h = await tc();
    expect(await add(h, 'general_cdev1_cert.crt', CERT)).toBe('\r\n+TCCERTADD:OK\r\n');
    // The CRLF was not taken for a command: the next line answers normally and nothing else came.
    expect(await h.at('AT')).toBe(OK);
    expect(await add(h, 'general_cdev1_private.key', KEY, '')).toBe('\r\n+TCCERTADD:OK\r\n');
    expect(await h.at('AT+TCCERTADD?')).toBe(reply('+TCCERTADD:"general_cdev1_cert.crt",1216', '+TCCERTADD:"general_cdev1_private.key",1704'));
    expect(await h.at('AT+TCCERTCHECK?')).toBe(reply('+TCCERTCHECK:"general_cdev1_cert.crt"', '+TCCERTCHECK:"general_cdev1_private.key"'));
    expect(await h.at('AT+TCCERTDEL?')).toBe(reply('+TCCERTDEL:"general_cdev1_cert.crt"', '+TCCERTDEL:"general_cdev1_private.key"'));
  });

  it('takes the bytes as they are, binary included, and replaces a file of the same name', async () => {
    const h = await tc();
    await add(h, 'blob.crt', Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x1b]));
    expect(await h.at('AT+TCCERTADD?')).toBe(reply('+TCCERTADD:"blob.crt",5'));
    await add(h, 'blob.crt', Buffer.from('xy'));
    expect(await h.at('AT+TCCERTADD?')).toBe(reply('+TCCERTADD:"blob.crt",2'));
  });

  it('fails with 202 and stores nothing when the sender sends fewer bytes and goes silent', async () => {
    const h = await tc(shortIdle(150));
    expect(await h.at('AT+TCCERTADD="general_cdev1_cert.crt",1216')).toBe(PROMPT);
    h.clear();
    h.send(CERT.subarray(0, 1000));
    expect(await h.waitFor('\r\n+TCCERTADD:FAIL,202\r\n', 3000)).toBe('\r\n+TCCERTADD:FAIL,202\r\n');
    expect(await h.at('AT+TCCERTADD?')).toBe(OK);
    expect(await h.at('AT')).toBe(OK);
  });

  it('ends the input at a Ctrl+Z before <cert_size> and stores what came before it', async () => {
    const h = await tc(shortIdle(150));
    expect(await h.at('AT+TCCERTADD="short.crt",4096')).toBe(PROMPT);
    h.clear();
    h.send(Buffer.concat([CERT, Buffer.from([0x1a])]));
    expect(await h.waitFor(/\+TCCERTADD:[^\r]*\r\n/, 3000)).toBe('\r\n+TCCERTADD:OK\r\n');
    expect(await h.at('AT+TCCERTADD?')).toBe(reply('+TCCERTADD:"short.crt",1216'));
    expect(await h.exchange('AT+TCCERTCHECK="short.crt"', okThen('+TCCERTCHECK:OK'))).toBe(okThen('+TCCERTCHECK:OK'));
  });

  it('refuses bad names and sizes (204) and a full store (207)', async () => {
    const h = await tc({ tweak: (p) => void ((p.settings['tencent-qcloud'] as { limits: { certCount: number } }).limits.certCount = 2) });
    for (const line of [
      'AT+TCCERTADD="a.crt",0',
      'AT+TCCERTADD="a.crt",4097',
      'AT+TCCERTADD="",10',
      'AT+TCCERTADD="../a.crt",10',
      'AT+TCCERTADD="a.crt"',
      'AT+TCCERTADD=a.crt,10',
      `AT+TCCERTADD="${'n'.repeat(65)}",10`,
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
    await add(h, 'a.crt', Buffer.from('1'));
    await add(h, 'b.crt', Buffer.from('2'));
    expect(await h.at('AT+TCCERTADD="c.crt",1')).toBe(cme(207));
    // Replacing an existing file still works.
    expect(await add(h, 'b.crt', Buffer.from('3'))).toBe('\r\n+TCCERTADD:OK\r\n');
  });
});

describe('AT+TCCERTCHECK (§2.4)', () => {
  it('parses certificates and keys: OK for real PEM, 203 for anything else, 204 for a missing name', async () => {
    const h = await tc();
    await add(h, 'good.crt', CERT);
    await add(h, 'good.key', KEY);
    await add(h, 'text.crt', Buffer.from('-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n'));
    await add(h, 'swapped.crt', KEY);
    await add(h, 'swapped.key', CERT);
    const check = async (name: string, result: string) =>
      expect(await h.exchange(`AT+TCCERTCHECK="${name}"`, okThen(result)), name).toBe(okThen(result));
    await check('good.crt', '+TCCERTCHECK:OK');
    await check('good.key', '+TCCERTCHECK:OK');
    await check('text.crt', '+TCCERTCHECK:FAIL,203');
    await check('swapped.crt', '+TCCERTCHECK:FAIL,203');
    await check('swapped.key', '+TCCERTCHECK:FAIL,203');
    await check('missing.crt', '+TCCERTCHECK:FAIL,204');
    expect(await h.at('AT+TCCERTCHECK=good.crt')).toBe(cme(204));
  });
});

describe('AT+TCCERTDEL (§2.5)', () => {
  it('deletes a stored file; a missing one fails with 204', async () => {
    const h = await tc();
    await add(h, 'good.crt', CERT);
    expect(await h.exchange('AT+TCCERTDEL="good.crt"', okThen('+TCCERTDEL:OK'))).toBe(okThen('+TCCERTDEL:OK'));
    expect(await h.at('AT+TCCERTDEL?')).toBe(OK);
    expect(await h.exchange('AT+TCCERTDEL="good.crt"', okThen('+TCCERTDEL:FAIL,204'))).toBe(okThen('+TCCERTDEL:FAIL,204'));
    expect(await h.at('AT+TCCERTDEL=')).toBe(cme(204));
  });
});
