/**
 * The `vmodem` command line run in this process: `main(argv, io)` with buffers for stdout and
 * stderr and an emitter standing in for the process's signals. Same code path as bin/vmodem
 * (src/cli/main.ts), without a node start-up per command.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { main, type CliIo } from '../../src/cli/main.js';

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MainRun {
  io: CliIo;
  stdout(): string;
  stderr(): string;
  /** Emit a signal as the process would receive it. */
  signal(sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void;
  /** Resolves with the code `vmodem start` exits with (io.exit). */
  exited: Promise<number>;
}

const running = new Set<MainRun>();
const tmpDirs: string[] = [];

/** Stop every `vmodem start` still running and remove temp dirs after each test of the file. */
export function useMainCleanup(): void {
  afterEach(async () => {
    await Promise.all(
      [...running].map(async (r) => {
        r.signal('SIGTERM');
        await r.exited;
      }),
    );
    running.clear();
    for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
}

function newRun(): MainRun {
  let out = '';
  let err = '';
  const signals = new EventEmitter();
  let exit!: (code: number) => void;
  const exited = new Promise<number>((r) => (exit = r));
  const run: MainRun = {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      signals,
      exit: (code) => {
        running.delete(run);
        exit(code);
      },
    },
    stdout: () => out,
    stderr: () => err,
    signal: (sig) => void signals.emit(sig),
    exited,
  };
  return run;
}

/** A fresh temp dir, removed after the test. */
function stateDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-main-'));
  tmpDirs.push(d);
  return d;
}

/**
 * `start` runs use a private state dir (the process's cwd is the repository): put before the
 * caller's arguments, so a `--state-dir` the test gives wins.
 */
function argv(args: string[]): string[] {
  const a = args[0] === 'start' ? ['start', '--state-dir', stateDir(), ...args.slice(1)] : args;
  return ['node', 'vmodem', ...a];
}

/** Run a command that ends by itself (help, profiles, ctl, a refused start). */
export async function runMain(args: string[]): Promise<MainResult> {
  const run = newRun();
  const code = await main(argv(args), run.io);
  if (run.stdout().includes('Ctrl+C stops.')) {
    // A start that should have been refused is running: stop it, so the test fails alone.
    running.add(run);
  }
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Start a command that runs a while (ctl events): its output so far, and its result when it ends. */
export function spawnMain(args: string[]): { stdout(): string; stderr(): string; done: Promise<MainResult> } {
  const run = newRun();
  const done = main(argv(args), run.io).then((code) => ({ code, stdout: run.stdout(), stderr: run.stderr() }));
  return { stdout: run.stdout, stderr: run.stderr, done };
}

/** `vmodem start …` until its banner; stop it with run.signal() and await run.exited. */
export async function startMain(args: string[]): Promise<MainRun & { banner: string }> {
  return untilBanner(['start', ...args]);
}

/** `vmodem demo …` (with a private state dir) until its banner, as {@link startMain}. */
export async function startDemoMain(args: string[]): Promise<MainRun & { banner: string }> {
  return untilBanner(['demo', '--state-dir', stateDir(), ...args]);
}

async function untilBanner(args: string[]): Promise<MainRun & { banner: string }> {
  const run = newRun();
  running.add(run);
  const code = await main(argv(args), run.io);
  if (!run.stdout().includes('Ctrl+C stops.')) {
    running.delete(run);
    throw new Error(`vmodem ${args[0]} did not start (exit ${code}): ${run.stderr()}`);
  }
  return { ...run, banner: run.stdout() };
}
