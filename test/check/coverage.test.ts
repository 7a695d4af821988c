/**
 * The AT command coverage table per manual (`vmodem profiles <id> --commands`, issue 10 §5):
 * every command the profile's manual defines has its row, with the forms the engine really has;
 * the commands vmodem adds are listed with where they come from; the Markdown the README links
 * (docs/commands/<id>.md) is what the command prints today.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverage, coverageMarkdown, coverageText } from '../../src/check/coverage.js';
import { listProfileIds, loadProfile } from '../../src/profiles/load-profile.js';
import { MANUAL_COMMANDS } from '../../src/profiles/manual-commands.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import { runMain } from '../cli/in-process.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

describe('AT command coverage per manual', () => {
  it('has a command list for the manual of every profile, and each list names commands from that manual\'s text', () => {
    for (const id of listProfileIds()) {
      const p = loadProfile(id);
      const manual = MANUAL_COMMANDS[p.manual.file];
      expect(manual, `${id}: ${p.manual.file}`).toBeDefined();
      const text = readFileSync(path.join(ROOT, '..', 'shared', 'specs', p.manual.file), 'utf8').toUpperCase();
      for (const c of manual!.commands) {
        // The YUGE table of contents drops the I of AT+IMQTT…; its sections print the whole name.
        expect(text.includes(`AT${c.name}`) || text.includes(`AT${c.name.replace('+IMQTT', '+MQTT')}`), `${p.manual.file} defines AT${c.name}`).toBe(true);
      }
    }
  });

  for (const id of listProfileIds()) {
    it(`${id}: no command of the manual is missing from the table; each row shows the engine's forms`, async () => {
      const p = loadProfile(id);
      const c = await coverage(p, COMMAND_SETS);
      expect(c.manualCommands.map((r) => r.command)).toEqual(MANUAL_COMMANDS[p.manual.file]!.commands.map((m) => `AT${m.name}`));
      for (const r of c.manualCommands) {
        // A manual command vmodem has is implemented in at least one form.
        if (r.set) expect(Object.values(r.forms).some(Boolean), r.command).toBe(true);
      }
      // Nothing is listed twice, and every extra command names its origin.
      const all = [...c.manualCommands, ...c.extra].map((r) => r.as ?? r.command);
      expect(new Set(all).size).toBe(all.length);
      for (const r of c.extra) expect(r.origin, r.command).toBeTruthy();
      expect(coverageText(c)).toContain('Commands the manual defines:');
    });
  }

  it('tencent-qcloud implements the commands of its manual in the manual\'s forms (§2–§4), except those its ESP8266 build lacks', async () => {
    const c = await coverage(loadProfile('tencent-qcloud'), COMMAND_SETS);
    const row = (cmd: string) => c.manualCommands.find((r) => r.command === cmd)!;
    expect(row('AT+TCMQTTDISCONN').forms).toEqual({ test: true, query: false, set: false, exec: true });
    expect(row('AT+TCMQTTPUBL').forms).toEqual({ test: true, query: false, set: true, exec: false });
    expect(row('AT+TCMODULE').forms).toEqual({ test: false, query: false, set: false, exec: true });
    // The ESP-AT commands underneath are listed as additions, with their origin.
    expect(c.extra.find((r) => r.command === 'AT+CWJAP')?.origin).toMatch(/ESP-AT/);
    // Left out by the profile (Tencent's test reports: 指令不存在), marked as such, not as missing.
    for (const cmd of ['AT+TCREGNET', 'AT+TCCERTADD', 'AT+TCCERTCHECK', 'AT+TCCERTDEL']) expect(row(cmd), cmd).toMatchObject({ omitted: true, forms: { test: false, query: false, set: false, exec: false } });
    expect(c.extra.map((r) => r.command)).not.toContain('AT+CSQ');
    expect(coverageMarkdown(c)).toContain("| `AT+TCREGNET` | 2.1 | - | - | - | - | not in this module's build");
  });

  it('tencent-qcloud-cellular implements every command of the manual', async () => {
    const c = await coverage(loadProfile('tencent-qcloud-cellular'), COMMAND_SETS);
    for (const r of c.manualCommands) expect(r.set, r.command).toBe('tencent-qcloud');
    expect(c.manualCommands.find((r) => r.command === 'AT+TCCERTADD')!.forms).toEqual({ test: true, query: true, set: true, exec: false });
  });

  it('yuge-clm920 lists the manual\'s AT+MQTTPUBEX as implemented under its +IMQTTPUBEX name', async () => {
    const c = await coverage(loadProfile('yuge-clm920'), COMMAND_SETS);
    expect(c.manualCommands.find((r) => r.command === 'AT+MQTTPUBEX')).toMatchObject({ as: 'AT+IMQTTPUBEX', set: 'yuge-imqtt' });
  });

  it('`vmodem profiles <id> --commands` prints the table; docs/commands/<id>.md is the --markdown output of today', async () => {
    const r = await runMain(['profiles', 'quectel-ec200', '--commands']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}AT\+QMTPUBEX +3\.3\.8 +yes +- +yes +- *$/m);
    const unknown = await runMain(['profiles', 'nope', '--commands']);
    expect(unknown.code).not.toBe(0);
    for (const id of listProfileIds()) {
      const md = coverageMarkdown(await coverage(loadProfile(id), COMMAND_SETS));
      const file = path.join(ROOT, 'docs', 'commands', `${id}.md`);
      expect(readFileSync(file, 'utf8'), `${file} is stale: vmodem profiles ${id} --commands --markdown > docs/commands/${id}.md`).toBe(md);
    }
  });
});
