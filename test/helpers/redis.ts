/**
 * A private Debian redis-server per test (issue 12 §1, cluster tests): on a free port, in a
 * temporary directory, `--appendonly yes` when a test claims data survives a restart. `restart`
 * stops it (SIGTERM, or SIGKILL with `hard`) and starts it again on the same port and directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canConnect, freePort } from './mosquitto.js';
import { which } from './requires.js';

export interface RedisHandle {
  readonly port: number;
  readonly url: string;
  /** What redis-server printed so far. */
  log(): string;
  /** Stop it (SIGTERM by default), wait `downMs`, start it again on the same port and data directory. */
  restart(opts?: { hard?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}


const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<RedisHandle> {
  const bin = which('redis-server') ?? 'redis-server';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vmodem-redis-'));
  const port = await freePort();
  let out = '';
  let child: ChildProcess | undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', opts.appendonly ? 'yes' : 'no', '--appendfsync', 'always'];
  const launch = async (): Promise<void> => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 200; i++) {
      if (c.exitCode !== null) throw new Error(`redis-server exited: ${out}`);
      if (await canConnect(port)) return;
      await sleep(25);
    }
    throw new Error(`redis-server did not listen on ${port}: ${out}`);
  };
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    log: () => out,
    restart: async ({ hard = false, downMs = 500 } = {}) => {
      await halt(hard ? 'SIGKILL' : 'SIGTERM');
      await sleep(downMs);
      await launch();
    },
    stop: async () => {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
