/**
 * Running the real `bin/vmodem` (which runs ../dist: `npm run test:system` builds it first; tests that need it call ensureDist).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'vmodem');

const children = new Set<ChildProcessWithoutNullStreams>();
const tmpPaths: string[] = [];
const cleanups: (() => unknown)[] = [];

export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/** Kill leftover processes and remove temp files after every test of the file. */
export function useCliCleanup(): void {
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
    await Promise.all(
      [...children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('close', () => resolve());
            c.kill('SIGKILL');
          }),
      ),
    );
    children.clear();
    for (const p of tmpPaths.splice(0)) fs.rmSync(p, { recursive: true, force: true });
  });
}

/** A fresh temp directory (removed after the test). */
export function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-cli-'));
  tmpPaths.push(d);
  return d;
}

/** A unique path in os.tmpdir() for a link (removed after the test if left behind). */
export function uniqueLink(): string {
  const p = path.join(os.tmpdir(), `vmodem-cli-${process.pid}-${randomBytes(6).toString('hex')}`);
  tmpPaths.push(p);
  return p;
}

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (and its pipes are closed). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn `node bin/vmodem ...args` with pipes (so stdout/stderr are not TTYs). */
export function spawnCli(args: string[], opts: { cwd?: string; ownProcessGroup?: boolean; bin?: string } = {}): CliRun {
  const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
    cwd: opts.cwd ?? tmpDir(),
    // A process group of its own, to signal it the way a terminal, systemd or `timeout` do.
    detached: opts.ownProcessGroup ?? false,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  child.stderr.on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Run a command that ends by itself (help, profiles, a refused start). */
export async function runCli(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; bin?: string } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const run = spawnCli(args, opts);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  const r = await run.exited;
  clearTimeout(timer);
  return { ...r, stdout: run.stdout(), stderr: run.stderr() };
}

/** Wait until stdout contains `marker` (e.g. the banner's last line) or the process exits. */
export async function waitForStdout(run: CliRun, marker: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (!run.stdout().includes(marker)) {
    if (exited) throw new Error(`vmodem exited before printing ${JSON.stringify(marker)}; stderr: ${run.stderr()}`);
    if (Date.now() > deadline) throw new Error(`vmodem did not print ${JSON.stringify(marker)}; stderr: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return run.stdout();
}

/** The TCP ports a process listens on (from /proc: its socket inodes in /proc/net/tcp{,6}). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st ... inode (field 9)
      if (f.length < 10 || f[3] !== '0A') continue;
      if (inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Direct children of a process (from /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
    } catch {
      /* thread gone */
    }
  }
  return out;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ...: comm may contain spaces, so split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The state letter of a process (R, S, Z, ...), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** The process group of a process, or undefined when it is gone. */
export function processGroup(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[2]) : undefined;
}
