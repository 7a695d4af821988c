/**
 * `vmodem check <transcript>`: replays the host side of a transcript (.at) or of a recording
 * (.jsonl, converted on the fly) against a fresh modem — memory port, embedded broker on an
 * ephemeral port — and reports the first difference as a unified diff (`-expected` / `+actual`)
 * with the lines exchanged before it.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded-broker.js';
import type { TimingMode } from '../modem/timing.js';
import { listProfileIds } from '../profiles/load-profile.js';
import { convertRecording } from '../record/to-transcript.js';
import { runTranscript, TranscriptMismatch } from '../transcript/run-transcript.js';
import { escapeBytes, formatPayload, formatTopic, OutputTokenizer, parseTranscript, type Step, type Transcript } from '../transcript/transcript.js';
import { silentLogger } from '../util/logger.js';
import { createMemoryModem, type MemoryModem } from './memory-modem.js';
import { transcriptPeer, type RecordingTranscriptPeer } from './transcript-peer.js';

export const DEFAULT_CHECK_PROFILE = 'quectel-ec200';

export interface CheckOptions {
  /** A transcript (.at) or a recording (.jsonl). */
  file: string;
  /** Profile id; wins over `@profile`, the folder name and the recording's profile. */
  profile?: string;
  /** Default: the transcript's `@timing`, else 'fast'. */
  timing?: TimingMode;
  log?: Logger;
  /** How long to wait for each expected line or publish (default 5000 ms). */
  timeoutMs?: number;
  /** Lines of context before the difference (default 6). */
  context?: number;
  /**
   * After the last line, wait this long (default 200 ms) and fail if the modem printed lines the
   * transcript does not expect. 0 turns the check off.
   */
  settleMs?: number;
}

export interface CheckFailure {
  /** 'mismatch': a line or publish differs; 'extra-output': more output than expected; 'error': the file or setup. */
  kind: 'mismatch' | 'extra-output' | 'error';
  /** Transcript line (of the converted transcript, for a recording). */
  line?: number;
  /** Line of the .jsonl recording it came from. */
  recordingLine?: number;
  expected?: string;
  actual?: string;
}

export interface CheckResult {
  ok: boolean;
  /** Human-readable: a one-line PASS summary, or FAIL with the diff. */
  report: string;
  /** The profile the check ran against (when it got that far). */
  profile?: string;
  failure?: CheckFailure;
}

/** How a transcript is shown in reports: printable text as is, other bytes escaped. */
function show(token: string): string {
  return /^[\x20-\x7e]*$/.test(token) ? token : escapeBytes(Buffer.from(token, 'latin1'));
}

function isRecording(file: string, text: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return true;
  if (ext === '.at') return false;
  return text.trimStart().startsWith('{');
}

function fail(report: string, failure: CheckFailure, profile?: string): CheckResult {
  return { ok: false, report, failure, ...(profile ? { profile } : {}) };
}

export async function runCheck(opts: CheckOptions): Promise<CheckResult> {
  try {
    return await check(opts);
  } catch (err) {
    // Never throws: a CLI maps ok to the exit code.
    return fail(`FAIL ${opts.file}: ${(err as Error).message}`, { kind: 'error' });
  }
}

async function check(opts: CheckOptions): Promise<CheckResult> {
  const name = opts.file;
  let source: string;
  try {
    source = await readFile(opts.file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(`FAIL ${name}: cannot read it (${e.code ?? e.message})`, { kind: 'error' });
  }

  let text = source;
  let origins: (number | undefined)[] | undefined;
  let recordingProfile: string | undefined;
  const recording = isRecording(opts.file, source);
  if (recording) {
    try {
      const converted = convertRecording(source);
      text = converted.text;
      origins = converted.origins;
      recordingProfile = converted.profile;
    } catch (err) {
      return fail(`FAIL ${name}: not a vmodem recording: ${(err as Error).message}`, { kind: 'error' });
    }
  }

  let t: Transcript;
  try {
    t = parseTranscript(text);
  } catch (err) {
    return fail(`FAIL ${name}: ${(err as Error).message}`, { kind: 'error' });
  }
  // An empty transcript checks nothing: passing it would hide a wrong path or a broken export.
  if (t.steps.length === 0) {
    return fail(`FAIL ${name}: nothing to check (${recording ? 'the recording has no host input' : 'the transcript has no steps'})`, { kind: 'error' });
  }

  const known = listProfileIds();
  const folder = basename(dirname(resolve(opts.file)));
  const profile = opts.profile ?? t.profile ?? recordingProfile ?? (known.includes(folder) ? folder : DEFAULT_CHECK_PROFILE);
  if (!known.includes(profile)) {
    return fail(`FAIL ${name}: unknown profile "${profile}"; available: ${known.join(', ')}`, { kind: 'error' });
  }
  const timing: TimingMode = opts.timing ?? t.timing ?? 'fast';
  const timeoutMs = opts.timeoutMs ?? 5000;
  const contextN = opts.context ?? 6;
  const settleMs = opts.settleMs ?? 200;
  const log = opts.log ?? silentLogger();
  const srcLines = text.split(/\r?\n/);
  const where = (line: number) => {
    const rec = origins?.[line - 1];
    return recording ? `${name}: recording line ${rec ?? '?'} (converted transcript line ${line})` : `${name}:${line}`;
  };

  let broker: EmbeddedBroker | undefined;
  let modem: MemoryModem | undefined;
  let peer: RecordingTranscriptPeer | undefined;
  const startedAt = performance.now();
  try {
    try {
      broker = await startEmbeddedBroker({ port: 0, log });
    } catch (err) {
      return fail(`FAIL ${name}: cannot start the embedded broker: ${(err as Error).message}`, { kind: 'error' }, profile);
    }
    modem = createMemoryModem(profile, { brokerPort: broker.port, echo: t.echo, timing, bootUrcs: t.boot ?? false, log });
    peer = transcriptPeer(modem, broker);

    // The modem's output as the runner tokenizes it: the n-th expect step consumed actual[n].
    const actual: string[] = [];
    const tokenizer = new OutputTokenizer();
    modem.port.host.onData((chunk) => actual.push(...tokenizer.push(chunk)));

    /** The diff context: the steps before `upTo`, shown as exchanged (expects as the modem printed them). */
    const context = (upTo: number): string[] => {
      const shown: string[] = [];
      let consumed = 0;
      t.steps.slice(0, upTo).forEach((s) => {
        if (s.kind === 'expect' || s.kind === 'expect-match') shown.push(`< ${show(actual[consumed++] ?? '')}`);
        else shown.push(srcLines[s.line - 1] ?? '');
      });
      return shown.slice(-contextN).map((l) => ` ${l}`);
    };
    const header = (line: number) => [`--- ${basename(name)} (expected)`, `+++ ${profile}, fresh modem (actual)`, `@@ line ${line} @@`];

    try {
      await runTranscript(t, peer, { timeoutMs });
    } catch (err) {
      if (!(err instanceof TranscriptMismatch)) {
        return fail(`FAIL ${name} (profile ${profile}): ${(err as Error).message}`, { kind: 'error' }, profile);
      }
      const step: Step = err.step;
      const index = t.steps.indexOf(step);
      const expectedLine = srcLines[step.line - 1] ?? err.expected;
      const out: string[] = [];
      let actualShown: string | undefined;
      out.push(`FAIL ${where(step.line)} (profile ${profile}, timing ${timing})`);
      if (step.kind === 'expect-publish') {
        const others = peer.unmatched().map((p) => `! expect-publish ${formatTopic(p.topic)} ${formatPayload(p.payload)}`);
        actualShown = err.detail ?? 'no such publish';
        out.push(`  expected: ${expectedLine}`, `  actual:   ${actualShown}`, '', ...header(step.line), ...context(index), `-${expectedLine}`);
        for (const o of others.slice(-5)) out.push(`+${o}`);
      } else {
        actualShown = err.actual === undefined ? `(nothing within ${timeoutMs} ms)` : `< ${show(err.actual)}`;
        out.push(`  expected: ${expectedLine}`, `  actual:   ${actualShown}`, '', ...header(step.line), ...context(index), `-${expectedLine}`);
        if (err.actual !== undefined) out.push(`+< ${show(err.actual)}`);
        else out.push(`\\ the modem printed nothing more within ${timeoutMs} ms`);
      }
      const failure: CheckFailure = { kind: 'mismatch', line: step.line, expected: expectedLine, actual: actualShown };
      const rec = origins?.[step.line - 1];
      if (rec !== undefined) failure.recordingLine = rec;
      return fail(out.join('\n'), failure, profile);
    }

    const expects = t.steps.filter((s) => s.kind === 'expect' || s.kind === 'expect-match').length;
    if (settleMs > 0) {
      await new Promise((r) => setTimeout(r, settleMs));
      const extra = actual.slice(expects);
      if (extra.length > 0) {
        const last = t.steps.at(-1)?.line ?? srcLines.length;
        const out = [
          `FAIL ${where(last)} (profile ${profile}, timing ${timing}): the modem printed more than the transcript expects`,
          `  expected: (nothing more)`,
          `  actual:   < ${show(extra[0]!)}`,
          '',
          ...header(last + 1),
          ...context(t.steps.length),
          ...extra.slice(0, 10).map((x) => `+< ${show(x)}`),
        ];
        if (extra.length > 10) out.push(`\\ and ${extra.length - 10} more lines`);
        return fail(out.join('\n'), { kind: 'extra-output', line: last, expected: '(nothing more)', actual: `< ${show(extra[0]!)}` }, profile);
      }
    }

    const count = (k: Step['kind'], one: string, many: string) => {
      const n = t.steps.filter((s) => s.kind === k).length;
      return `${n} ${n === 1 ? one : many}`;
    };
    const ms = Math.round(performance.now() - startedAt);
    const report =
      `PASS ${name} (profile ${profile}, timing ${timing}): ${t.steps.length} steps — ` +
      `${count('send', 'send', 'sends')}, ${expects} ${expects === 1 ? 'line' : 'lines'} matched, ` +
      `${count('publish', 'cloud publish', 'cloud publishes')}, ${count('expect-publish', 'device publish', 'device publishes')} — ${ms} ms`;
    return { ok: true, report, profile };
  } finally {
    peer?.dispose();
    await modem?.stop();
    await broker?.close();
  }
}
