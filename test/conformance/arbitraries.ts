/**
 * fast-check generators built from one profile's own material: the commands its modem registers
 * (AtEngine.commandDefs(), each in its four forms whether it has them or not) and the host lines
 * of its transcripts (fixtures/transcripts/<profile>/*.at, the manuals' examples), used as seeds
 * for mutation and as a source of realistic argument values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CommandDef, Form } from '../../src/at/types.js';
import { parseTranscript } from '../../src/transcript/transcript.js';
import type { BrokerEvent, Case, Step } from './harness.js';
import type { ProfileKit } from './kits.js';

const TRANSCRIPTS = join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts');

export interface Corpus {
  commands: { name: string; forms: Form[] }[];
  /** Host command lines from the profile's transcripts, without their terminator. */
  seedLines: string[];
  /** Argument values those lines use. */
  seedArgs: string[];
}

const FORMS: Form[] = ['test', 'read', 'set', 'exec'];

export function corpusFor(profileId: string, defs: readonly CommandDef[]): Corpus {
  const seedLines: string[] = [];
  let files: string[];
  try {
    files = readdirSync(join(TRANSCRIPTS, profileId)).filter((f) => f.endsWith('.at'));
  } catch {
    files = [];
  }
  for (const f of files) {
    const t = parseTranscript(readFileSync(join(TRANSCRIPTS, profileId, f), 'utf8'));
    for (const s of t.steps) {
      if (s.kind !== 'send') continue;
      const text = s.bytes.toString('latin1').replace(/\r?\n?$/, '').replace(/\r$/, '');
      if (/^at/i.test(text)) seedLines.push(text);
    }
  }
  const seedArgs = new Set<string>();
  for (const l of seedLines) {
    const eq = l.indexOf('=');
    if (eq < 0) continue;
    for (const a of l.slice(eq + 1).split(',')) if (a !== '?' && a.length <= 64) seedArgs.add(a);
  }
  return {
    commands: defs.map((d) => ({ name: d.name, forms: FORMS.filter((f) => d[f] !== undefined) })),
    seedLines: seedLines.length > 0 ? seedLines : ['AT'],
    seedArgs: seedArgs.size > 0 ? [...seedArgs] : ['0'],
  };
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

function argArb(corpus: Corpus): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 10 }).map(String) },
    { weight: 2, arbitrary: fc.integer({ min: -70_000, max: 70_000 }).map(String) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('4294967296', '99999999999999999999999', '-2147483649', '2147483648', '65536', '65535', '-1', '-0', '+1', '1e9', '0x10', '00000000000000000001', 'NaN', '1.5', '9007199254740993'),
    },
    { weight: 3, arbitrary: fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/"/g, '')}"`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((s) => `"${s}`) },
    { weight: 1, arbitrary: fc.constant('') },
    { weight: 4, arbitrary: fc.constantFrom(...corpus.seedArgs) },
    { weight: 1, arbitrary: fc.constantFrom('"a/#"', '"+/b"', '"#"', '"a\\"b"', '"\\\\"', '""', '" "', '"a,b"', '"\\"', '"\\x00"') },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_/.-]{0,12}$/) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 4096 }).map((n) => `"${'x'.repeat(n)}"`) },
  );
}

/** A command of the table in one of the four forms (present or not), with random arguments. */
function formLineArb(corpus: Corpus): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.constantFrom(...corpus.commands), fc.constantFrom(...FORMS), fc.array(argArb(corpus), { maxLength: 8 }), fc.boolean())
    .map(([cmd, form, args, present]) => {
      const f = present && cmd.forms.length > 0 ? (cmd.forms.includes(form) ? form : cmd.forms[0]!) : form;
      const head = `AT${cmd.name}`;
      switch (f) {
        case 'test':
          return latin1(`${head}=?`);
        case 'read':
          return latin1(`${head}?`);
        case 'exec':
          return latin1(head);
        case 'set':
          // Basic commands take their value right after the name (ATE0); S-registers and
          // extended commands take `=`.
          if (/^[A-Z&]$|^&[A-Z]$/.test(cmd.name)) return latin1(`${head}${/^\d+$/.test(args[0] ?? '') ? args[0] : '1'}`);
          return latin1(`${head}=${args.join(',')}`);
      }
    });
}

type Mutation = { kind: 'delete' | 'insert' | 'truncate' | 'unquote' | 'number' | 'dup-arg' | 'drop-arg' | 'form' | 'lower' | 'none'; at: number; n: number; byte: number; value: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'truncate', 'unquote', 'number', 'dup-arg', 'drop-arg', 'form', 'lower', 'none'),
  at: fc.nat(),
  n: fc.integer({ min: 1, max: 8 }),
  byte: fc.integer({ min: 0, max: 255 }),
  value: fc.constantFrom('-1', '0', '65536', '99999999999', '-99999999999', '4294967297', ''),
});

export function mutate(line: string, m: Mutation): Buffer {
  const at = line.length === 0 ? 0 : m.at % line.length;
  switch (m.kind) {
    case 'delete':
      return latin1(line.slice(0, at) + line.slice(at + m.n));
    case 'insert':
      return Buffer.concat([latin1(line.slice(0, at)), Buffer.from([m.byte]), latin1(line.slice(at))]);
    case 'truncate':
      return latin1(line.slice(0, Math.max(2, at)));
    case 'unquote': {
      const q = line.lastIndexOf('"');
      return latin1(q < 0 ? `${line},"x` : line.slice(0, q) + line.slice(q + 1));
    }
    case 'number': {
      const nums = [...line.matchAll(/\d+/g)];
      if (nums.length === 0) return latin1(line);
      const hit = nums[m.at % nums.length]!;
      return latin1(line.slice(0, hit.index) + m.value + line.slice(hit.index + hit[0].length));
    }
    case 'dup-arg': {
      const c = line.lastIndexOf(',');
      return latin1(c < 0 ? `${line},${m.value}` : `${line}${line.slice(c)}`);
    }
    case 'drop-arg': {
      const c = line.lastIndexOf(',');
      return latin1(c < 0 ? line : line.slice(0, c));
    }
    case 'form': {
      const eq = line.indexOf('=');
      const head = eq < 0 ? line : line.slice(0, eq);
      return latin1([`${head}=?`, `${head}?`, head, `${head}=`][m.n % 4]!);
    }
    case 'lower':
      return latin1(line.toLowerCase());
    case 'none':
      return latin1(line);
  }
}

function lineArb(corpus: Corpus): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 5, arbitrary: formLineArb(corpus) },
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...corpus.seedLines), mutationArb).map(([l, m]) => mutate(l, m)) },
    { weight: 2, arbitrary: fc.constantFrom(...corpus.seedLines).map(latin1) },
    { weight: 1, arbitrary: fc.constantFrom('AT', 'A/', 'at', 'AT+', 'AT+=', 'ATE1', 'ATE0', 'ATV0', 'ATV1', 'ATQ1', 'ATQ0', 'AT+CMEE=2', 'AT+CMEE=0', 'AT+CFUN=0', 'AT+CFUN=1', 'AT+CFUN=1,1', 'ATZ', 'AT&F', 'AT;', 'AT;;+CSQ', 'AT+CSQ;+CGMR', '\x08\x08AT').map(latin1) },
  );
}

export interface CaseOptions {
  maxSteps: number;
  /** Allow 64 KiB lines (costly: tests keep them rare). */
  hugeLines: boolean;
  /** Most lines in one pipelined burst (default 8; the fuzz run sends longer bursts). */
  burstMax?: number;
}

export function stepArb(corpus: Corpus, kit: ProfileKit, opts: CaseOptions): fc.Arbitrary<Step> {
  const line = lineArb(corpus);
  const brokerEvents: BrokerEvent[] = ['drop', 'stall', 'unstall', 'down', 'up', 'refuse', 'accept', 'deliver'];
  const arbs: fc.WeightedArbitrary<Step>[] = [
    { weight: 30, arbitrary: line.map((text): Step => ({ t: 'line', text })) },
    { weight: 8, arbitrary: fc.array(line, { minLength: 2, maxLength: opts.burstMax ?? 8, size: 'max' }).map((lines): Step => ({ t: 'burst', lines })) },
    { weight: 3, arbitrary: fc.tuple(line, fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 4 })).map(([text, sizes]): Step => ({ t: 'chunked', text, sizes })) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b): Step => ({ t: 'raw', bytes: Buffer.from(b) })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...corpus.commands).map((c): Step => {
        const all = Buffer.alloc(256);
        for (let i = 0; i < 256; i++) all[i] = i;
        return { t: 'raw', bytes: Buffer.concat([latin1(`AT${c.name}="`), all, latin1('"\r')]) };
      }),
    },
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom<0 | 1>(0, 1), fc.stringMatching(/^[A-Za-z0-9 ]{1,40}$/)).map(([qos, payload]): Step => ({ t: 'publish', qos, payload })) },
    // Deliveries common enough that the delivered-message invariant often has something to check
    // (a connected case that delivers subscribes first: harness.ts).
    { weight: 4, arbitrary: fc.constantFrom<0 | 1 | 2>(0, 1, 2).map((qos): Step => ({ t: 'subscribe', qos })) },
    { weight: 6, arbitrary: fc.constant<Step>({ t: 'broker', ev: 'deliver' }) },
    { weight: 4, arbitrary: fc.nat(kit.sameId.length - 1).map((which): Step => ({ t: 'same-id', which })) },
    {
      weight: 3,
      arbitrary: fc
        .record({ kind: fc.constantFrom<'cut' | 'flood'>('cut', 'flood'), announced: fc.integer({ min: 1, max: 64 }), extra: fc.integer({ min: 1, max: 4096 }), fill: fc.integer({ min: 0, max: 255 }) })
        .map(({ kind, announced, extra, fill }): Step => ({ t: 'data', kind, announced, sent: kind === 'cut' ? Math.floor(announced / 2) : announced + extra, fill })),
    },
    { weight: 5, arbitrary: fc.constantFrom(...brokerEvents).map((ev): Step => ({ t: 'broker', ev })) },
    { weight: 2, arbitrary: fc.constantFrom(100, 1_000, 5_000, 20_000, 60_000, 130_000).map((ms): Step => ({ t: 'advance', ms })) },
  ];
  if (opts.hugeLines) {
    arbs.push({
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...corpus.commands), fc.constantFrom(0x78, 0x22, 0x2c, 0x00)).map(([c, fill]): Step => ({
        t: 'line',
        text: Buffer.concat([latin1(`AT${c.name}=`), Buffer.alloc(64 * 1024, fill)]),
      })),
    });
  }
  return fc.oneof(...arbs);
}

export function caseArb(corpus: Corpus, kit: ProfileKit, opts: CaseOptions): fc.Arbitrary<Case> {
  return fc.record({
    connect: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    steps: fc.array(stepArb(corpus, kit, opts), { minLength: 1, maxLength: opts.maxSteps }),
  });
}

/** A short human-readable form of a case (for failure reports). */
export function describeCase(c: Case): string {
  const show = (b: Buffer): string => {
    const s = b.toString('latin1');
    return JSON.stringify(s.length > 120 ? `${s.slice(0, 100)}…(${s.length} bytes)` : s);
  };
  const steps = c.steps.map((s) => {
    switch (s.t) {
      case 'line':
        return `line ${show(s.text)}`;
      case 'burst':
        return `burst ${s.lines.map(show).join(' ')}`;
      case 'chunked':
        return `chunked ${show(s.text)} in ${s.sizes.join('/')}`;
      case 'raw':
        return `raw ${show(s.bytes)}`;
      default:
        return JSON.stringify(s);
    }
  });
  return `connect=${c.connect}\n  ${steps.join('\n  ')}`;
}
