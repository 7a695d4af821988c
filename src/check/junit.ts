/**
 * JUnit XML for `vmodem check --junit <file>` (issue 14 §6): one test case per transcript, so CI
 * systems (GitLab, Jenkins, GitHub test reporters) list each one. A difference is a <failure>
 * with the diff; a file that cannot be checked (unreadable, does not parse, empty) an <error>.
 */
export interface JunitCase {
  name: string;
  /** Seconds. */
  time: number;
  outcome: 'pass' | 'fail' | 'error';
  /** The check's report (the diff for a failure). */
  report: string;
}

function xml(s: string): string {
  return s
    .replace(/[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd]/gu, '?')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function junitXml(cases: JunitCase[], suite = 'vmodem check'): string {
  const failures = cases.filter((c) => c.outcome === 'fail').length;
  const errors = cases.filter((c) => c.outcome === 'error').length;
  const time = cases.reduce((a, c) => a + c.time, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
    `  <testsuite name="${xml(suite)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
  ];
  for (const c of cases) {
    const head = `    <testcase classname="vmodem.check" name="${xml(c.name)}" time="${c.time.toFixed(3)}"`;
    if (c.outcome === 'pass') {
      lines.push(`${head}/>`);
      continue;
    }
    const tag = c.outcome === 'fail' ? 'failure' : 'error';
    const first = c.report.split('\n')[0] ?? '';
    lines.push(`${head}>`, `      <${tag} message="${xml(first)}">${xml(c.report)}</${tag}>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
