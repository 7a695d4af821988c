/**
 * The dashboard's server side (issue 11), without a browser: the page is served without the
 * token but only under the server's own Host and with a CSP; the token travels in the URL
 * fragment and never reaches the logs; API requests from another origin are refused; typing on
 * the port is refused while a firmware holds it unless taken over; a recording becomes a
 * transcript.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlServer, type ControlServer } from '../../src/control/http-api.js';
import { HostAccess } from '../../src/control/host-access.js';
import { ControlError } from '../../src/control/controller.js';
import { recordingToTranscript } from '../../src/record/to-transcript.js';

const servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function uiDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-ui-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>vmodem dashboard</title>');
  fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'app.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not served');
  return dir;
}

async function start(opts: { ui?: boolean } = { ui: true }) {
  const lines: string[] = [];
  const log = pino({ level: 'trace' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const s = await startControlServer({ modems: [], find: () => undefined, toTranscript: recordingToTranscript }, { port: 0, token: 'secret-token-4711', log, ...(opts.ui ? { ui: uiDir() } : {}) });
  servers.push(s);
  return { s, lines };
}

/** A raw GET with any Host header (fetch does not let a test set Host). */
function rawGet(port: number, p: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('dashboard pages', () => {
  it('serves index.html at / and the bundle under /ui/ without the token, with a CSP that allows only its own origin', async () => {
    const { s } = await start();
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('vmodem dashboard');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${s.port} ws://localhost:${s.port}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const js = await fetch(`${s.url}/ui/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
  });

  it('serves only the bundle files by exact name: other files, unknown names and paths out of the folder are 404', async () => {
    const { s } = await start();
    for (const p of ['/ui/notes.txt', '/ui/missing.js', '/ui/..%2Fpackage.json', '/ui/../index.html', '/index.html']) {
      const r = await rawGet(s.port, p, { Host: `127.0.0.1:${s.port}` });
      expect([401, 404], `${p} → ${r.status}`).toContain(r.status);
      expect(r.body).not.toContain('not served');
    }
  });

  it('refuses the page under another Host (a DNS-rebinding site) with 403 forbidden-host', async () => {
    const { s } = await start();
    const evil = await rawGet(s.port, '/', { Host: `evil.example:${s.port}` });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.code).toBe('forbidden-host');
    expect((await rawGet(s.port, '/', { Host: `localhost:${s.port}` })).status).toBe(200);
  });

  it('without --ui, / is not a page: it needs the token like any other path', async () => {
    const { s } = await start({ ui: false });
    expect(s.uiUrl).toBeUndefined();
    expect((await fetch(`${s.url}/`)).status).toBe(401);
  });

  it('puts the token in the URL fragment, which never reaches the server, and never logs it', async () => {
    const { s, lines } = await start();
    expect(s.uiUrl).toBe(`${s.url}/#token=secret-token-4711`);
    await fetch(`${s.url}/`);
    await fetch(`${s.url}/v1`, { headers: { Authorization: 'Bearer secret-token-4711' } });
    await fetch(`${s.url}/v1?token=secret-token-4711`);
    await fetch(`${s.url}/v1/transcript`, { method: 'POST', headers: { Authorization: 'Bearer secret-token-4711' }, body: '{"recording": 5}' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('secret-token-4711');
  });
});

describe('origin checks on the API', () => {
  it('refuses a request from another origin with 403 forbidden-origin even with the right token', async () => {
    const { s } = await start();
    for (const origin of ['http://evil.example', `http://127.0.0.1:${s.port + 1}`, `https://127.0.0.1:${s.port}`, 'null']) {
      const r = await fetch(`${s.url}/v1`, { headers: { Authorization: 'Bearer secret-token-4711', Origin: origin } });
      expect(r.status, origin).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('forbidden-origin');
    }
  });

  it('answers the page itself (its own origin) and clients that send no Origin', async () => {
    const { s } = await start();
    const own = await fetch(`${s.url}/v1`, { headers: { Authorization: 'Bearer secret-token-4711', Origin: `http://localhost:${s.port}` } });
    expect(own.status).toBe(200);
    const none = await fetch(`${s.url}/v1`, { headers: { Authorization: 'Bearer secret-token-4711' } });
    expect(none.status).toBe(200);
    const wrong = await fetch(`${s.url}/v1`, { headers: { Authorization: 'Bearer wrong-token-0000', Origin: s.url } });
    expect(wrong.status).toBe(401);
  });
});

describe('POST /v1/transcript', () => {
  it('turns the dashboard\'s recording into a transcript (.at) with src/record', async () => {
    const { s } = await start();
    const recording = [
      { type: 'start', t: 0, time: '2026-01-01T00:00:00.000Z', format: 1, vmodem: 'dashboard', node: 'browser', profile: 'quectel-ec200', echo: true },
      { type: 'in', t: 1, text: 'AT\r', hex: '41540d' },
      { type: 'out', t: 2, kind: 'echo', text: 'AT\r', hex: '41540d' },
      { type: 'out', t: 3, kind: 'response', text: '\r\nOK\r\n', hex: '0d0a4f4b0d0a' },
      { type: 'stop', t: 4 },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const r = await fetch(`${s.url}/v1/transcript`, { method: 'POST', headers: { Authorization: 'Bearer secret-token-4711' }, body: JSON.stringify({ recording }) });
    expect(r.status).toBe(200);
    const { transcript } = (await r.json()) as { transcript: string };
    expect(transcript).toContain('@profile quectel-ec200');
    expect(transcript).toMatch(/^> AT$/m);
    expect(transcript).toMatch(/^< OK$/m);
  });

  it('answers 400 bad-recording for text that is not a recording', async () => {
    const { s } = await start();
    const r = await fetch(`${s.url}/v1/transcript`, { method: 'POST', headers: { Authorization: 'Bearer secret-token-4711' }, body: JSON.stringify({ recording: 'not json' }) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('bad-recording');
  });
});

describe('HostAccess: typing on the port', () => {
  function port() {
    const p = new EventEmitter();
    const typed: string[] = [];
    p.on('data', (b: Buffer) => typed.push(b.toString('latin1')));
    return { p, typed };
  }

  it('passes typed bytes to the modem as host input while no firmware holds the port', () => {
    const { p, typed } = port();
    const h = new HostAccess(p as never, true);
    h.write(Buffer.from('ATI\r'));
    expect(typed).toEqual(['ATI\r']);
    expect(h.state).toEqual({ watched: true, open: false, takenOver: false });
  });

  it('refuses typing with 409 port-held while a firmware holds the port, and allows it once taken over', () => {
    const { p, typed } = port();
    const h = new HostAccess(p as never, true);
    const seen: unknown[] = [];
    h.watch((s) => seen.push(s));
    p.emit('host-open');
    expect(() => h.write(Buffer.from('AT\r'))).toThrow(ControlError);
    try {
      h.write(Buffer.from('AT\r'));
    } catch (err) {
      expect((err as ControlError).code).toBe('port-held');
      expect((err as ControlError).status).toBe(409);
    }
    expect(typed).toEqual([]);
    h.takeOver(true);
    h.write(Buffer.from('AT\r'));
    expect(typed).toEqual(['AT\r']);
    h.takeOver(false);
    expect(() => h.write(Buffer.from('AT\r'))).toThrow(/take it over/);
    p.emit('host-close');
    expect(seen).toEqual([
      { watched: true, open: true, takenOver: false },
      { watched: true, open: true, takenOver: true },
      { watched: true, open: true, takenOver: false },
      { watched: true, open: false, takenOver: false },
    ]);
  });

  it('allows typing when opens of the port are not watched (whether a firmware holds it is unknown)', () => {
    const { p, typed } = port();
    const h = new HostAccess(p as never, false);
    p.emit('host-open');
    h.write(Buffer.from('AT\r'));
    expect(typed).toEqual(['AT\r']);
    expect(h.state.open).toBeNull();
  });
});
