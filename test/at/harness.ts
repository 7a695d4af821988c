/**
 * Test helpers for the AT engine: a manual clock (timers run only when a test advances time)
 * and an engine on a MemoryPort with a settle() that drains microtasks and immediates.
 */
import { AtEngine, type EngineSettings } from '../../src/at/engine.js';
import type { CommandDef } from '../../src/at/types.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import type { Clock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';

type Timer = ReturnType<typeof setTimeout>;

export class ManualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id as unknown as Timer;
  }

  clearTimeout(t: Timer): void {
    this.timers.delete(t as unknown as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in due order (then creation order). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.timers) {
        if (e[1].at > target) continue;
        if (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq)) next = e;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = target;
  }
}

/** Let queued microtasks, promise chains and immediates run until the output stops changing. */
export async function settle(port?: MemoryPort): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 3) {
    await new Promise<void>((r) => setImmediate(r));
    const n = port ? port.host.writes.length : 0;
    if (n === last) stable++;
    else {
      stable = 0;
      last = n;
    }
  }
}

export interface EngineHarness {
  engine: AtEngine;
  port: MemoryPort;
  clock: ManualClock | undefined;
  send(bytes: string | Buffer): void;
  /** Everything written, latin1. */
  output(): string;
  /** Each port write, latin1. */
  writes(): string[];
  clear(): void;
}

export function engineHarness(
  defs: readonly CommandDef[],
  opts: {
    echo?: boolean;
    cmee?: EngineSettings['cmee'];
    maxLineLength?: number;
    realClock?: boolean;
    onFault?: (err: unknown, where: string) => void;
  } = {},
): EngineHarness {
  const port = new MemoryPort();
  const clock = opts.realClock ? undefined : new ManualClock();
  const engine = new AtEngine({
    port,
    log: silentLogger(),
    maxLineLength: opts.maxLineLength ?? 1024,
    prompt: '\r\n> ',
    settings: { echo: opts.echo ?? false, cmee: opts.cmee ?? 0 },
    cmeText: (code) => ({ 3: 'operation not allowed', 50: 'Incorrect parameters' })[code],
    clock,
    onFault: opts.onFault,
  });
  engine.register(defs);
  return {
    engine,
    port,
    clock,
    send: (b) => port.host.send(b),
    output: () => port.host.received.toString('latin1'),
    writes: () => port.host.writes.map((w) => w.toString('latin1')),
    clear: () => port.host.clear(),
  };
}
