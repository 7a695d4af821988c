/**
 * Test helpers around a real Debian mosquitto: a private broker per test file and the
 * mosquitto_pub / mosquitto_sub clients as third-party peers.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

function findBinary(name: string, candidates: string[]): string {
  for (const c of candidates) if (existsSync(c)) return c;
  return name; // fall back to PATH
}

export const MOSQUITTO_BIN = findBinary('mosquitto', ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']);
export const MOSQUITTO_PUB_BIN = findBinary('mosquitto_pub', ['/usr/bin/mosquitto_pub']);
export const MOSQUITTO_SUB_BIN = findBinary('mosquitto_sub', ['/usr/bin/mosquitto_sub']);
const STDBUF_BIN = ['/usr/bin/stdbuf', '/bin/stdbuf'].find((c) => existsSync(c));
export const MOSQUITTO_PASSWD_BIN = findBinary('mosquitto_passwd', ['/usr/bin/mosquitto_passwd']);

/** True when the mosquitto broker binary exists (tests may skip otherwise). */
export function haveMosquitto(): boolean {
  return existsSync(MOSQUITTO_BIN) || existsSync('/usr/bin/mosquitto');
}

/** A TCP port that was free a moment ago (mosquitto listeners cannot use port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` now (also used by redis.ts). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface MosquittoHandle {
  port: number;
  /** The broker process id. */
  pid: number;
  /** Output mosquitto wrote so far (for debugging failed tests). */
  log(): string;
  /** SIGTERM (then SIGKILL) the broker and remove its temp dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL the broker at once (simulates the broker going away abruptly). */
  kill(): Promise<void>;
}

export interface StartMosquittoOptions {
  /** Require this user/password (password_file); otherwise anonymous access is allowed. */
  passwordFile?: { user: string; pass: string };
  /** Extra lines appended to the config. */
  extraConfig?: string[];
}

export async function startMosquitto(opts: StartMosquittoOptions = {}): Promise<MosquittoHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-mosq-'));
  // Started as root, mosquitto drops to the 'mosquitto' user before reading the password file.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf: string[] = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning'];
  if (opts.passwordFile) {
    const pwFile = path.join(dir, 'passwd');
    await execFileAsync(MOSQUITTO_PASSWD_BIN, ['-b', '-c', pwFile, opts.passwordFile.user, opts.passwordFile.pass]);
    chmodSync(pwFile, 0o644);
    conf.push('allow_anonymous false', `password_file ${pwFile}`);
  } else {
    conf.push('allow_anonymous true');
  }
  conf.push(...(opts.extraConfig ?? []));
  const confPath = path.join(dir, 'mosquitto.conf');
  writeFileSync(confPath, conf.join('\n') + '\n');

  const child = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = child.exitCode !== null;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `spawn error: ${err.message}\n`;
      exited = true;
      resolve();
    });
  });

  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (!exited) {
      child.kill(signal);
      const killTimer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    cleanup();
  };

  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (exited || Date.now() > deadline) {
      await stopWith('SIGKILL');
      throw new Error(`mosquitto did not start on port ${port}:\n${output}`);
    }
    await sleep(25);
  }

  return {
    port,
    pid: child.pid ?? -1,
    log: () => output,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
  };
}

export interface ReceivedMessage {
  topic: string;
  /** The payload as text (or as hex when `hex` was asked for). */
  payload: string;
  /** Retain flag as mosquitto_sub reports it (only filled with `withFlags`). */
  retain?: boolean;
  qos?: number;
}

export interface MosquittoSubOptions {
  /** Exit after this many messages (-C). Default 1. */
  count?: number;
  /** Give up after this long (-W, whole seconds, at least 1). Default 5000. */
  timeoutMs?: number;
  /** QoS to subscribe with. Default 0. */
  qos?: 0 | 1 | 2;
  /** Report the payload as hex (%x) — for binary payloads. */
  hex?: boolean;
  /** Also report retain flag and QoS of each message. */
  withFlags?: boolean;
  /** Extra arguments (e.g. ['-u', 'user', '-P', 'pass', '-V', 'mqttv31']). */
  extraArgs?: string[];
}

export interface MosquittoSub {
  /** Resolves when the subscription is active on the broker. */
  ready: Promise<void>;
  /** Resolves with the messages received when mosquitto_sub exits (count reached or -W timeout). */
  done: Promise<ReceivedMessage[]>;
  /** Kill mosquitto_sub now. */
  kill(): void;
}

/**
 * Start mosquitto_sub and collect `count` messages. Use `.ready` before publishing so the
 * subscription exists (detected from mosquitto_sub's -d debug output "received SUBACK").
 */
export function startMosquittoSub(port: number, topic: string, opts: MosquittoSubOptions = {}): MosquittoSub {
  const count = opts.count ?? 1;
  const seconds = Math.max(1, Math.ceil((opts.timeoutMs ?? 5000) / 1000));
  // Records separated by a marker line so payloads may contain spaces and newlines.
  const SEP = '\u001e';
  const fmt = [`%t`, opts.withFlags ? '%r' : '', opts.withFlags ? '%q' : '', opts.hex ? '%x' : '%p'].filter(Boolean).join(SEP);
  const args = [
    '-h', '127.0.0.1',
    '-p', String(port),
    '-t', topic,
    '-q', String(opts.qos ?? 0),
    '-C', String(count),
    '-W', String(seconds),
    '-F', `${fmt}${SEP}${SEP}`,
    '-d',
    ...(opts.extraArgs ?? []),
  ];
  // stdout is a pipe, so mosquitto_sub would block-buffer its debug lines and the SUBACK we wait
  // for would only show up at exit: force line buffering.
  const child: ChildProcess = STDBUF_BIN
    ? spawn(STDBUF_BIN, ['-oL', MOSQUITTO_SUB_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(MOSQUITTO_SUB_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString('latin1');
    if (stdout.includes('received SUBACK')) readyResolve();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));

  const done = new Promise<ReceivedMessage[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => {
      readyResolve();
      const messages: ReceivedMessage[] = [];
      // -d debug lines ("Client ... sending CONNECT") are interleaved; records are delimited.
      const parts = stdout.split(`${SEP}${SEP}`);
      parts.pop(); // tail after the last record
      for (const raw of parts) {
        // Drop debug lines preceding the record: the record starts after the last debug line.
        const lines = raw.split('\n');
        let start = 0;
        for (let i = 0; i < lines.length; i++) if (/^(Client \S+ (sending|received) |Subscribed \(mid)/.test(lines[i] ?? '')) start = i + 1;
        const rec = lines.slice(start).join('\n').replace(/^\n/, '');
        const fields = rec.split(SEP);
        const msg: ReceivedMessage = { topic: fields[0] ?? '', payload: '' };
        if (opts.withFlags) {
          msg.retain = fields[1] === '1';
          msg.qos = Number(fields[2]);
          msg.payload = fields.slice(3).join(SEP);
        } else {
          msg.payload = fields.slice(1).join(SEP);
        }
        if (!opts.hex) msg.payload = Buffer.from(msg.payload, 'latin1').toString('utf8');
        messages.push(msg);
      }
      if (messages.length === 0 && stderr.trim() && !/Timed out/i.test(stderr)) {
        reject(new Error(`mosquitto_sub failed: ${stderr.trim()}`));
        return;
      }
      resolve(messages);
    });
  });
  return {
    ready,
    done,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Convenience: subscribe, wait for `count` messages (or the timeout) and return them. */
export function mosquittoSub(port: number, topic: string, opts: MosquittoSubOptions = {}): Promise<ReceivedMessage[]> {
  return startMosquittoSub(port, topic, opts).done;
}

export interface MosquittoPubOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  extraArgs?: string[];
}

/** Publish one message with mosquitto_pub; resolves once mosquitto_pub has exited successfully. */
export async function mosquittoPub(
  port: number,
  topic: string,
  payload: string | Buffer,
  opts: MosquittoPubOptions = {},
): Promise<void> {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', String(opts.qos ?? 0)];
  if (opts.retain) args.push('-r');
  args.push(...(opts.extraArgs ?? []));
  args.push('-s'); // payload from stdin: binary-safe
  await new Promise<void>((resolve, reject) => {
    const child = spawn(MOSQUITTO_PUB_BIN, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`mosquitto_pub exited with ${code}: ${stderr.trim()}`));
    });
    child.stdin?.end(typeof payload === 'string' ? Buffer.from(payload) : payload);
  });
}
