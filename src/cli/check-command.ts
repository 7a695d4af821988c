/**
 * `vmodem check <file|dir>…` for CI (issue 14 §6): every transcript (.at) and recording (.jsonl)
 * given, directories searched recursively; exit 0 when all pass, 1 when one differs, 2 when one
 * cannot be checked (unreadable, does not parse, unknown profile, empty) — each such file is one
 * line on stderr. Diffs are coloured on a terminal; `--junit <file>` writes one test case per file.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCheck } from '../check/check.js';
import { junitXml, type JunitCase } from '../check/junit.js';
import type { CliIo } from './main.js';

const CHECKABLE = /\.(at|jsonl|ndjson)$/i;

/** The files to check, in order: files as given, directories' checkable files sorted. */
export function checkFiles(args: string[]): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (CHECKABLE.test(e.name)) files.push(p);
    }
  };
  for (const a of args) {
    let isDir: boolean;
    try {
      isDir = statSync(a).isDirectory();
    } catch (err) {
      problems.push(`${a}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    if (!isDir) {
      files.push(a);
      continue;
    }
    const before = files.length;
    walk(a);
    if (files.length === before) problems.push(`${a}: no transcripts (.at) or recordings (.jsonl) in it`);
  }
  return { files, problems };
}

/** A diff's lines in colour: removed red, added green, hunk headers cyan. */
export function colourReport(report: string): string {
  return report
    .split('\n')
    .map((l) => {
      if (/^(PASS)/.test(l)) return `\x1b[32m${l}\x1b[0m`;
      if (/^(FAIL)/.test(l)) return `\x1b[1;31m${l}\x1b[0m`;
      if (l.startsWith('---') || l.startsWith('+++')) return `\x1b[1m${l}\x1b[0m`;
      if (l.startsWith('@@')) return `\x1b[36m${l}\x1b[0m`;
      if (l.startsWith('-')) return `\x1b[31m${l}\x1b[0m`;
      if (l.startsWith('+')) return `\x1b[32m${l}\x1b[0m`;
      return l;
    })
    .join('\n');
}

export async function runCheckCommand(args: string[], o: { profile?: string; junit?: string; colour?: boolean }, io: CliIo): Promise<number> {
  const colour = o.colour ?? (Boolean(io.stdout.isTTY) && !process.env.NO_COLOR);
  const { files, problems } = checkFiles(args);
  const cases: JunitCase[] = [];
  let code = 0;
  for (const p of problems) {
    io.stderr.write(`vmodem: check ${p}\n`);
    cases.push({ name: p.split(':')[0]!, time: 0, outcome: 'error', report: p });
    code = 2;
  }
  for (const file of files) {
    const started = performance.now();
    const r = await runCheck({ file, ...(o.profile !== undefined ? { profile: o.profile } : {}) });
    const time = (performance.now() - started) / 1000;
    if (r.failure?.kind === 'error') {
      // Bad input: one line, exit 2 (the report is `FAIL <file>: <why>`).
      io.stderr.write(`vmodem: check ${r.report.replace(/^FAIL /, '').replace(/\s+/g, ' ').trim()}\n`);
      cases.push({ name: file, time, outcome: 'error', report: r.report });
      code = 2;
      continue;
    }
    io.stdout.write(`${colour ? colourReport(r.report) : r.report}\n`);
    cases.push({ name: file, time, outcome: r.ok ? 'pass' : 'fail', report: r.report });
    if (!r.ok && code === 0) code = 1;
  }
  if (files.length > 1 || problems.length > 0) {
    const n = (k: JunitCase['outcome']) => cases.filter((c) => c.outcome === k).length;
    io.stdout.write(`${n('pass')} passed, ${n('fail')} failed${n('error') ? `, ${n('error')} could not be checked` : ''}\n`);
  }
  if (o.junit !== undefined) {
    try {
      writeFileSync(o.junit, junitXml(cases));
    } catch (err) {
      io.stderr.write(`vmodem: --junit ${o.junit}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
      return 2;
    }
  }
  return code;
}
