/**
 * `vmodem profiles <id> --commands`: for every AT command the profile's manual defines
 * (src/profiles/manual-commands.ts), which forms (test `=?`, query `?`, set `=…`, exec) vmodem
 * implements; and the commands vmodem implements that the manual does not define, with where
 * they come from (the command set that registers them). Generated from the engine's command
 * table of a modem built for the profile, so it cannot drift from the code.
 */
import type { CommandDef } from '../at/types.js';
import type { CommandSet, CommandSetRegistry } from '../modem/device.js';
import { brokerLinkOpener } from '../modem/link-opener.js';
import { Modem } from '../modem/modem.js';
import { MemoryPort } from '../port/memory-port.js';
import { MANUAL_COMMANDS, type ManualCommand } from '../profiles/manual-commands.js';
import type { Profile } from '../profiles/profile.js';
import { silentLogger } from '../util/logger.js';
import { TestClock } from '../util/clock.js';

export type Form = 'test' | 'query' | 'set' | 'exec';
export const FORMS: readonly Form[] = ['test', 'query', 'set', 'exec'];

/** Where the commands of each set come from (sets not listed: the vendor's own manual family). */
export const SET_ORIGINS: Record<string, string> = {
  common: 'ITU-T V.250 / 3GPP TS 27.007 basics',
  cellular: '3GPP TS 27.007 / 27.005',
  'esp-at': "ESP-AT (Espressif's ESP8266 AT firmware the Tencent firmware is built on)",
  'neoway-basic': 'Neoway N21-class AT commands (real-module evidence, profile notes)',
  'quectel-basic': 'Quectel AT commands manuals (bring-up; real-module evidence, FACTS)',
  'quectel-lte': 'Quectel LTE Standard(A) AT/TCP-IP manuals (bring-up; real-module evidence)',
  'quectel-nbiot': 'Quectel BC260Y AT manual (bring-up)',
  'onemo-basic': 'OneMO AT commands (bring-up; real-module evidence)',
  'yuge-basic': 'YUGE AT commands (bring-up)',
  'quectel-qmt-ec200': 'real-module evidence (profile notes: Quectel MCU SDK, deployed firmware)',
  'quectel-qmt-bc260y': 'real-module evidence (profile notes)',
  'onemo-mqtt': 'real-module evidence (profile notes)',
  'tencent-qcloud': 'real-module evidence (profile notes: Tencent test reports)',
  'yuge-imqtt': 'real-module evidence (profile notes)',
};

export interface CoverageRow {
  /** `AT+QMTCFG`. */
  command: string;
  section?: string;
  forms: Record<Form, boolean>;
  /** The name vmodem registers it under when the manual's is an alias (`+IMQTTPUBEX` for `+MQTTPUBEX`). */
  as?: string;
  /** Command set that registers it. */
  set?: string;
  /** For commands outside the manual: where they come from. */
  origin?: string;
  /** A manual command this module's build does not have (profile `omitCommands`; its notes say why). */
  omitted?: boolean;
}

export interface Coverage {
  profile: string;
  manual: { file: string; title: string };
  /** Every command the manual defines, in the manual's order. */
  manualCommands: CoverageRow[];
  /** Commands vmodem implements that the manual does not define. */
  extra: CoverageRow[];
}

function formsOf(def: CommandDef | undefined): Record<Form, boolean> {
  return { test: Boolean(def?.test), query: Boolean(def?.read), set: Boolean(def?.set), exec: Boolean(def?.exec) };
}

/** The command definitions of each set a modem for `profile` enables (in registration order). */
export async function commandTables(profile: Profile, registry: CommandSetRegistry): Promise<{ set: string; defs: CommandDef[] }[]> {
  const tables: { set: string; defs: CommandDef[] }[] = [];
  const recording: CommandSetRegistry = Object.fromEntries(
    Object.entries(registry).map(([id, factory]) => [
      id,
      (...args: Parameters<typeof factory>): CommandSet => {
        const set = factory(...args);
        // What the engine registers: the profile's omitCommands are left out (src/modem/modem.ts).
        const omit = new Set((profile.omitCommands ?? []).map((n) => n.toUpperCase()));
        tables.push({ set: id, defs: set.commands.filter((d) => !omit.has(d.name.toUpperCase())) });
        return set;
      },
    ]),
  );
  const log = silentLogger();
  const modem = new Modem({
    profile,
    port: new MemoryPort(),
    log,
    // Nothing is opened: the modem is built only to read its command table.
    links: brokerLinkOpener({ plain: { host: '127.0.0.1', port: 1 } }, log),
    commandSets: recording,
    timing: 'fast',
    bootUrcs: false,
    clock: new TestClock(),
  });
  await modem.stop();
  return tables;
}

export async function coverage(profile: Profile, registry: CommandSetRegistry): Promise<Coverage> {
  const manual = MANUAL_COMMANDS[profile.manual.file];
  if (!manual) throw new Error(`no command list for the manual ${profile.manual.file} (src/profiles/manual-commands.ts)`);
  const tables = await commandTables(profile, registry);
  const byName = new Map<string, { def: CommandDef; set: string }>();
  for (const { set, defs } of tables) {
    for (const def of defs) {
      for (const n of [def.name, ...(def.aliases ?? [])]) byName.set(n.toUpperCase(), { def, set });
    }
  }
  const used = new Set<CommandDef>();
  const omitted = new Set((profile.omitCommands ?? []).map((n) => n.toUpperCase()));
  const manualCommands = manual.commands.map((c: ManualCommand): CoverageRow => {
    const hit = byName.get(c.name.toUpperCase());
    if (hit) used.add(hit.def);
    return {
      command: `AT${c.name}`,
      section: c.section,
      forms: formsOf(hit?.def),
      ...(hit && hit.def.name.toUpperCase() !== c.name.toUpperCase() ? { as: `AT${hit.def.name}` } : {}),
      ...(hit ? { set: hit.set } : {}),
      ...(!hit && omitted.has(c.name.toUpperCase()) ? { omitted: true } : {}),
    };
  });
  const extra: CoverageRow[] = [];
  const seen = new Set<CommandDef>();
  for (const { set, defs } of tables) {
    for (const def of defs) {
      // A later set may register the same name again (the engine keeps the last): list what the
      // engine really answers with.
      if (used.has(def) || seen.has(def) || byName.get(def.name.toUpperCase())?.def !== def) continue;
      seen.add(def);
      extra.push({ command: `AT${def.name}`, forms: formsOf(def), set, origin: SET_ORIGINS[set] ?? set });
    }
  }
  return { profile: profile.id, manual: { file: profile.manual.file, title: profile.manual.title }, manualCommands, extra };
}

const mark = (on: boolean) => (on ? 'yes' : '-');

/** Markdown: the table the README links per profile (docs/commands/<id>.md). */
export function coverageMarkdown(c: Coverage): string {
  const out: string[] = [];
  out.push(`# AT commands of \`${c.profile}\``, '');
  out.push(
    `Generated by \`vmodem profiles ${c.profile} --commands --markdown\` from the command table of a modem built for the profile and the list of commands its manual defines (src/profiles/manual-commands.ts). Manual: ${c.manual.title} (shared/specs/${c.manual.file}).`,
    '',
  );
  out.push('## Commands the manual defines', '', '| command | § | test `=?` | query `?` | set `=…` | exec | notes |', '|---|---|---|---|---|---|---|');
  for (const r of c.manualCommands) {
    const note = r.omitted ? 'not in this module\'s build (profile `omitCommands`, see its notes)' : !r.set ? '**not implemented**' : r.as ? `implemented as \`${r.as}\`` : '';
    out.push(`| \`${r.command}\` | ${r.section ?? ''} | ${mark(r.forms.test)} | ${mark(r.forms.query)} | ${mark(r.forms.set)} | ${mark(r.forms.exec)} | ${note} |`);
  }
  out.push('', '## Commands vmodem implements that the manual does not define', '', '| command | test `=?` | query `?` | set `=…` | exec | set | from |', '|---|---|---|---|---|---|---|');
  for (const r of c.extra) {
    out.push(`| \`${r.command}\` | ${mark(r.forms.test)} | ${mark(r.forms.query)} | ${mark(r.forms.set)} | ${mark(r.forms.exec)} | ${r.set} | ${r.origin} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Plain text for the terminal. */
export function coverageText(c: Coverage): string {
  const width = Math.max(...[...c.manualCommands, ...c.extra].map((r) => r.command.length), 8) + 2;
  const head = (first: string) => `  ${first.padEnd(width)}${'§'.padEnd(7)}test  query set   exec`;
  const row = (r: CoverageRow, tail: string) =>
    `  ${r.command.padEnd(width)}${(r.section ?? '').padEnd(7)}${FORMS.map((f) => mark(r.forms[f]).padEnd(6)).join('')}${tail}`.trimEnd();
  const lines = [`${c.profile}: ${c.manual.title} (${c.manual.file})`, '', 'Commands the manual defines:', head('command')];
  for (const r of c.manualCommands) lines.push(row(r, r.omitted ? 'not in this build (omitCommands)' : !r.set ? 'NOT IMPLEMENTED' : r.as ? `as ${r.as}` : ''));
  lines.push('', 'Commands vmodem implements that the manual does not define:', head('command'));
  for (const r of c.extra) lines.push(row(r, r.origin ?? ''));
  return `${lines.join('\n')}\n`;
}
