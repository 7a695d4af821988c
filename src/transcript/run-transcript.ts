/**
 * Plays the host side of a transcript against a modem and checks the modem side, line by line.
 * Input can be cut into small random chunks (Zephyr modem_chat's mock transport caps reads at 8
 * bytes) to prove the parser does not depend on how bytes arrive.
 */
import type { MemoryHost } from '../port/memory-port.js';
import { formatPayload, formatTopic, OutputTokenizer, type Step, type Transcript } from './transcript.js';

export interface TranscriptPeer {
  host: MemoryHost;
  /** The cloud publishes to the device. */
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean): Promise<void>;
  /** Resolves when the device has published `topic` with `payload`. */
  waitForPublish(topic: string, payload: Buffer, timeoutMs: number): Promise<void>;
}

export interface RunOptions {
  /** Cut host input into chunks of 1..maxChunk bytes (seeded, reproducible). */
  chunking?: { maxChunk: number; seed: number };
  timeoutMs?: number;
}

export class TranscriptMismatch extends Error {
  constructor(
    readonly step: Step,
    readonly expected: string,
    readonly actual: string | undefined,
    readonly transcriptOutput: string,
    /** For steps that are not output lines (expect-publish): what went wrong instead. */
    readonly detail?: string,
  ) {
    super(
      `line ${step.line}: expected ${expected}, ` +
        (detail !== undefined ? detail : `got ${actual === undefined ? '(nothing)' : JSON.stringify(actual)}`),
    );
    this.name = 'TranscriptMismatch';
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

export async function runTranscript(t: Transcript, peer: TranscriptPeer, opts: RunOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const tokenizer = new OutputTokenizer();
  const tokens: string[] = [];
  let waiter: (() => void) | undefined;
  const all: string[] = [];
  const off = peer.host.onData((chunk) => {
    const got = tokenizer.push(chunk);
    tokens.push(...got);
    all.push(...got);
    waiter?.();
  });
  const random = opts.chunking ? rng(opts.chunking.seed) : undefined;

  const nextToken = (step: Step): Promise<string | undefined> =>
    new Promise((resolve) => {
      if (tokens.length > 0) return resolve(tokens.shift());
      const timer = setTimeout(() => {
        waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      waiter = () => {
        if (tokens.length === 0) return;
        clearTimeout(timer);
        waiter = undefined;
        resolve(tokens.shift());
      };
      void step;
    });

  const send = async (bytes: Buffer) => {
    if (!random) {
      peer.host.send(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; ) {
      const n = 1 + Math.floor(random() * opts.chunking!.maxChunk);
      peer.host.send(bytes.subarray(i, i + n));
      i += n;
      await new Promise((r) => setImmediate(r));
    }
  };

  try {
    for (const step of t.steps) {
      switch (step.kind) {
        case 'send':
          await send(step.bytes);
          break;
        case 'expect': {
          const got = await nextToken(step);
          if (got !== step.text) throw new TranscriptMismatch(step, JSON.stringify(step.text), got, all.join('\n'));
          break;
        }
        case 'expect-match': {
          const got = await nextToken(step);
          if (got === undefined || !step.pattern.test(got)) throw new TranscriptMismatch(step, String(step.pattern), got, all.join('\n'));
          break;
        }
        case 'publish':
          await peer.publish(step.topic, step.payload, step.qos, step.retain);
          break;
        case 'expect-publish':
          try {
            await peer.waitForPublish(step.topic, step.payload, timeoutMs);
          } catch (err) {
            const expected = `a publish to ${formatTopic(step.topic)} ${formatPayload(step.payload)}`;
            throw new TranscriptMismatch(step, expected, undefined, all.join('\n'), (err as Error).message);
          }
          break;
      }
    }
  } finally {
    off();
  }
}
