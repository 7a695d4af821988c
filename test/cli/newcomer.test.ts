/**
 * Issue 14, "a newcomer's first hour": the CLI's readiness signal for CI (--ready-file, --json,
 * ctl wait-ready), exit with the starting process, the serial monitor, convert, check for CI
 * (several files, empty = bad input, JUnit, colours), profiles --json, the mixed-profile banner
 * and the unreachable --broker warning. Everything in-process (main(argv, io)).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';
import { SerialMonitor } from '../../src/cli/monitor.js';
import { startersOf, watchStarters, type ProcessTable } from '../../src/cli/parent-watch.js';
import { colourReport } from '../../src/cli/check-command.js';
import { recordBytes } from '../../src/record/format.js';
import { recordingToTranscript } from '../../src/index.js';
import { runMain, spawnMain, startMain, useMainCleanup } from './in-process.js';

useMainCleanup();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-i14-'));
  dirs.push(d);
  return d;
}

/** `vmodem start` in-process with its own io (for output that has no text banner). */
async function startRaw(args: string[]): Promise<{ stdout(): string; signal(sig: string): void; exited: Promise<number> }> {
  let out = '';
  let err = '';
  const signals = new EventEmitter();
  let exit!: (code: number) => void;
  const exited = new Promise<number>((r) => (exit = r));
  const io: CliIo = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, signals, exit: (code) => exit(code) };
  const code = await main(['node', 'vmodem', 'start', '--state-dir', tmp(), ...args], io);
  if (code !== 0) throw new Error(`vmodem start failed (${code}): ${err}`);
  return { stdout: () => out, signal: (sig) => void signals.emit(sig), exited };
}

/** A fake process table: pid → [parent, start time]; entries can be deleted (the process died). */
function fakeTable(self: number, rows: Record<number, [number, string]>): ProcessTable & { rows: Record<number, [number, string]>; parent: number } {
  const t = {
    rows,
    parent: rows[self]![0],
    ppid: () => t.parent,
    parentOf: (pid: number) => t.rows[pid]?.[0],
    identity: (pid: number) => t.rows[pid]?.[1],
  };
  return t;
}

describe('readiness for CI (issue 14 §4)', () => {
  it('--ready-file holds link, ports, broker, control URL and token once up, and is removed on exit; --json prints the same object', async () => {
    const dir = tmp();
    const ready = path.join(dir, 'ready.json');
    const link = path.join(dir, 'tty0');
    const run = await startRaw(['--link', link, '--mqtt-port', '0', '--control-port', '0', '--timing', 'fast', '--ready-file', ready, '--json', '--no-exit-with-parent']);
    expect(run.stdout().split('\n')).toHaveLength(2); // one line of JSON
    const banner = JSON.parse(run.stdout()) as Record<string, unknown>;
    const info = JSON.parse(fs.readFileSync(ready, 'utf8')) as {
      link: string; device: string; profile: string; ports: { mqtt: number; control: number }; control: { url: string; token: string }; broker: { url: string; embedded: boolean };
    };
    expect(banner).toEqual(info);
    expect(info).toMatchObject({ format: 1, pid: process.pid, profile: 'quectel-ec200', link, timing: 'fast', broker: { embedded: true } });
    expect(fs.realpathSync(info.link)).toBe(info.device);
    expect(info.broker.url).toBe(`mqtt://127.0.0.1:${info.ports.mqtt}`);
    expect(info.control.url).toBe(`http://127.0.0.1:${info.ports.control}`);
    expect(info.control.token).toMatch(/^[\w.~+/=-]{8,256}$/);
    expect(fs.statSync(ready).mode & 0o777).toBe(0o600);
    // It really accepts connections.
    const res = await fetch(`${info.control.url}/v1/modems/0`, { headers: { authorization: `Bearer ${info.control.token}` } });
    expect(res.status).toBe(200);
    run.signal('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(fs.existsSync(ready)).toBe(false);
  });

  it('ctl wait-ready --ready-file waits for the file and the API, then prints the ready JSON', async () => {
    const dir = tmp();
    const ready = path.join(dir, 'ready.json');
    const waiting = spawnMain(['ctl', 'wait-ready', '--ready-file', ready, '--wait', '60']);
    const run = await startMain(['--link', path.join(dir, 'tty0'), '--mqtt-port', '0', '--control-port', '0', '--ready-file', ready, '--no-exit-with-parent']);
    const r = await waiting.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(fs.readFileSync(ready, 'utf8')));
    run.signal('SIGTERM');
    await run.exited;
  });

  it('ctl wait-ready gives up after --wait with one line and exit 1', async () => {
    const r = await runMain(['ctl', 'wait-ready', '--ready-file', path.join(tmp(), 'never.json'), '--wait', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vmodem: not ready within 0 s \(.*never\.json: ENOENT\)\n$/);
  });
});

describe('exit with the process that started vmodem (issue 14 §1)', () => {
  it('remembers the parent and two more ancestors below init', () => {
    const t = fakeTable(100, { 100: [90, 'a'], 90: [80, 'b'], 80: [70, 'c'], 70: [1, 'd'] });
    expect(startersOf(t, 100)).toEqual([{ pid: 90, identity: 'b' }, { pid: 80, identity: 'c' }, { pid: 70, identity: 'd' }]);
    expect(startersOf(fakeTable(100, { 100: [1, 'a'] }), 100)).toEqual([]);
  });

  it('reports a starter that died, one whose pid was reused, and a re-parenting', async () => {
    const cases: ((t: ReturnType<typeof fakeTable>) => void)[] = [
      (t) => delete t.rows[80], // npx killed: vmodem's shell parent lives on
      (t) => (t.rows[80] = [70, 'other']), // the pid now belongs to another process
      (t) => (t.parent = 1), // the parent died and init adopted vmodem
    ];
    const reasons: string[] = [];
    for (const change of cases) {
      const t = fakeTable(100, { 100: [90, 'a'], 90: [80, 'b'], 80: [1, 'c'] });
      const gone = new Promise<string>((resolve) => watchStarters({ table: t, self: 100, intervalMs: 5, onGone: resolve }));
      change(t);
      reasons.push(await gone);
    }
    expect(reasons).toEqual(['process 80 that started vmodem is gone', 'process 80 that started vmodem is gone', 'parent 90 is gone (re-parented to 1)']);
  });

  it('vmodem start stops (exit 0, link removed) when its starter is gone, and not with --no-exit-with-parent', async () => {
    const dir = tmp();
    const link = path.join(dir, 'tty0');
    const table = fakeTable(100, { 100: [90, 'a'], 90: [1, 'b'] });
    let out = '';
    let exit!: (code: number) => void;
    const exited = new Promise<number>((r) => (exit = r));
    const io: CliIo = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
      signals: new EventEmitter(),
      exit: (code) => exit(code),
      starters: { table, self: 100, intervalMs: 5 },
    };
    expect(await main(['node', 'vmodem', 'start', '--link', link, '--mqtt-port', '0', '--state-dir', dir], io)).toBe(0);
    expect(out).toContain('Ctrl+C stops.');
    expect(fs.existsSync(link)).toBe(true);
    delete table.rows[90];
    expect(await exited).toBe(0);
    expect(fs.existsSync(link)).toBe(false);
  });
});

describe('--monitor (issue 14 §7)', () => {
  it('prints host lines, responses, URCs, prompts and data, binary as \\xHH, no echo', () => {
    const lines: string[] = [];
    let t = 0;
    const m = new SerialMonitor({ write: (s) => lines.push(s), colour: false, now: () => t });
    m.onInput(Buffer.from('AT+QMTPUBEX=0,1,1,0,"t",3\r'));
    m.onOutput(Buffer.from('AT+QMTPUBEX=0,1,1,0,"t",3\r'), 'echo');
    t = 12;
    m.onOutput(Buffer.from('\r\n> '), 'prompt');
    m.onInput(Buffer.from([0x61, 0x00, 0x1a]));
    m.onOutput(Buffer.from('\r\nOK\r\n'), 'response');
    t = 1500;
    m.onOutput(Buffer.from('\r\n+QMTPUBEX: 0,1,0\r\n'), 'urc');
    m.onInput(Buffer.from('AT+X\r'));
    m.onOutput(Buffer.from('\r\nERROR\r\n'), 'response');
    expect(lines).toEqual([
      '   0.000 > AT+QMTPUBEX=0,1,1,0,"t",3\n',
      '   0.012 < > (prompt)\n',
      '   0.012 > a\\x00\\x1a (data)\n',
      '   0.012 < OK\n',
      '   1.500 < +QMTPUBEX: 0,1,0 (urc)\n',
      '   1.500 > AT+X\n',
      '   1.500 < ERROR\n',
    ]);
  });

  it('colours by kind on a terminal', () => {
    const lines: string[] = [];
    const m = new SerialMonitor({ write: (s) => lines.push(s), colour: true, name: 'tracker', now: () => 0 });
    m.onOutput(Buffer.from('\r\n+QMTSTAT: 0,1\r\n'), 'urc');
    expect(lines).toEqual(['\x1b[2m   0.000\x1b[0m tracker \x1b[33m< +QMTSTAT: 0,1 (urc)\x1b[0m\n']);
  });

  it('vmodem start --monitor shows the conversation on stdout after the banner', async () => {
    const dir = tmp();
    const link = path.join(dir, 'tty0');
    const run = await startMain(['--link', link, '--mqtt-port', '0', '--monitor', '--no-exit-with-parent']);
    const fd = fs.openSync(link, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    fs.writeSync(fd, 'ATE0\r');
    await expect.poll(() => run.stdout(), { timeout: 10_000 }).toMatch(/> ATE0\n.* < OK\n/);
    fs.closeSync(fd);
    run.signal('SIGTERM');
    await run.exited;
  });
});

describe('vmodem convert and recordingToTranscript (issue 14 §5)', () => {
  const recording = [
    { type: 'start', t: 0, time: '2025-01-01T00:00:00.000Z', format: 1, profile: 'quectel-ec200', echo: false },
    { type: 'in', t: 1, ...recordBytes(Buffer.from('AT\r')) },
    { type: 'out', t: 2, kind: 'response', ...recordBytes(Buffer.from('\r\nOK\r\n')) },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n');

  it('prints the transcript, or writes it with -o; the package exports the same function', async () => {
    const dir = tmp();
    const file = path.join(dir, 'session.jsonl');
    fs.writeFileSync(file, recording);
    const r = await runMain(['convert', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${recordingToTranscript(recording).replace(/\n$/, '')}\n`);
    expect(r.stdout).toMatch(/^@profile quectel-ec200$/m);
    expect(r.stdout).toMatch(/^> AT\n< OK$/m);
    const out = path.join(dir, 'session.at');
    expect((await runMain(['convert', file, '-o', out])).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(r.stdout);
    expect((await runMain(['check', out])).code).toBe(0);
  });

  it('a file that is no recording: exit 2 and one line', async () => {
    const file = path.join(tmp(), 'x.jsonl');
    fs.writeFileSync(file, 'hello\n');
    const r = await runMain(['convert', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vmodem: convert .*x\.jsonl: not a vmodem recording: .*\n$/);
  });
});

describe('vmodem check for CI (issue 14 §6)', () => {
  it('an empty transcript is bad input: exit 2 and one line', async () => {
    const file = path.join(tmp(), 'empty.at');
    fs.writeFileSync(file, '# nothing here\n');
    const r = await runMain(['check', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`vmodem: check ${file}: nothing to check (the transcript has no steps)\n`);
    expect(r.stdout).toBe('');
  });

  it('checks several files and directories, sums up, and writes one JUnit test case per file', async () => {
    const dir = tmp();
    const bad = path.join(dir, 'bad.at');
    fs.writeFileSync(bad, '> AT\n< ERROR\n');
    const junit = path.join(dir, 'report.xml');
    const r = await runMain(['check', 'fixtures/transcripts/quectel-ec200', bad, path.join(dir, 'missing.at'), '--junit', junit]);
    const ec200 = fs.readdirSync('fixtures/transcripts/quectel-ec200').filter((f) => f.endsWith('.at')).length;
    expect(r.code).toBe(2); // a missing file outranks a difference
    expect(r.stdout.match(/^PASS /gm)?.length).toBe(ec200);
    expect(r.stdout).toMatch(/^FAIL .*bad\.at:2 /m);
    expect(r.stdout).toMatch(new RegExp(`^${ec200} passed, 1 failed, 1 could not be checked\\n$`, 'm'));
    expect(r.stderr).toMatch(/^vmodem: check .*missing\.at: cannot read it \(ENOENT\)\n$/);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain(`<testsuites name="vmodem check" tests="${ec200 + 2}" failures="1" errors="1"`);
    expect(xml.match(/<testcase /g)?.length).toBe(ec200 + 2);
    expect(xml).toMatch(/<testcase classname="vmodem.check" name="[^"]*bad\.at" time="[\d.]+">\n\s+<failure message="FAIL [^"]*bad\.at:2 /);
  });

  it('exit 1 (not 2) when every file could be checked and one differs', async () => {
    const bad = path.join(tmp(), 'bad.at');
    fs.writeFileSync(bad, '> AT\n< ERROR\n');
    expect((await runMain(['check', bad])).code).toBe(1);
  });

  it('colours a diff: removed red, added green, hunk cyan', () => {
    expect(colourReport('FAIL x\n@@ line 2 @@\n-< ERROR\n+< OK\n > AT')).toBe(
      '\x1b[1;31mFAIL x\x1b[0m\n\x1b[36m@@ line 2 @@\x1b[0m\n\x1b[31m-< ERROR\x1b[0m\n\x1b[32m+< OK\x1b[0m\n > AT',
    );
  });
});

describe('drift (issue 14 §9)', () => {
  it('profiles --json lists id, module and manual of every profile', async () => {
    const r = await runMain(['profiles', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; module: string; manual: { title: string; file: string } }[];
    expect(list.map((p) => p.id)).toContain('onemo-ml307');
    for (const p of list) expect(p).toEqual({ id: expect.any(String), module: expect.any(String), manual: { title: expect.any(String), file: expect.any(String) } });
  });

  it('the banner of modems with different profiles names every profile', async () => {
    const dir = tmp();
    const cfg = path.join(dir, 'vmodem.yaml');
    fs.writeFileSync(cfg, `mqtt-port: 0\nmodems:\n  - { name: a, profile: quectel-ec200, link: ${dir}/a }\n  - { name: b, profile: quectel-bc260y, link: ${dir}/b }\n`);
    const run = await startMain(['--config', cfg, '--no-exit-with-parent']);
    expect(run.banner.split('\n')[0]).toBe('vmodem × 2: quectel-ec200, quectel-bc260y');
    expect(run.banner).toMatch(/^ {2}b +\S+\/b -> \/dev\/pts\/\d+ {2}IMEI \d{15} {2}quectel-bc260y$/m);
    run.signal('SIGTERM');
    await run.exited;
  });

  it('a --broker nobody listens on starts with a one-line warning', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const run = await startMain(['--link', path.join(tmp(), 'tty0'), '--broker', `mqtt://127.0.0.1:${port}`, '--no-exit-with-parent']);
    expect(run.stderr()).toContain(`vmodem: warning: the broker mqtt://127.0.0.1:${port} is not reachable (ECONNREFUSED); the firmware's opens fail until it is\n`);
    run.signal('SIGTERM');
    await run.exited;
  });
});
