/**
 * `vmodem start --config vmodem.yaml`: the settings of `vmodem start` in a file, plus a list of
 * modems with their own profile, name, link and IMEI. Keys are the long flags of `vmodem start`
 * without the dashes (`mqtt-port: 0`; camelCase `mqttPort` is accepted too); a nested mapping
 * joins its keys with a dash (`control: { port: 0 }` is `control-port: 0`). Relative paths are
 * relative to the config file. Flags given on the command line win over the file. Values are
 * checked with zod schemas per kind of setting; errors name the file, the line and the key.
 *
 * `radio:` (top level, for every modem, and in each entry of `modems:`, over it) sets the radio
 * and SIM defaults of the profile (settings.radio, src/modem/radio-settings.ts): operator, APN,
 * IP, ICCID/IMSI, cell ids, registration and activation times, time zone, PSM timers.
 *
 * `wifi:` (the same two places) sets the Wi-Fi side of Wi-Fi profiles (settings.wifi,
 * src/modem/wifi-station.ts; tencent-qcloud): the access point's SSID, password, BSSID, channel
 * and signal, the addresses its DHCP server hands out, the station's MAC, whether the module joins
 * at power-on, and the join times.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { Command } from 'commander';
import { listProfileIds } from '../profiles/load-profile.js';
import { z } from 'zod';
import { firstProblem, mustBe, typeName } from '../util/schema.js';
import { yamlToJs } from '../util/yaml-limits.js';
import { parseBrokerUrl, VmodemConfigError, type ModemSpec, type VmodemOptions } from '../vmodem.js';
import type { RadioSettings } from '../modem/radio-settings.js';
import type { WifiSettings } from '../modem/wifi-station.js';

type Kind = 'string' | 'path' | 'port' | 'timing' | 'count' | 'baud' | 'profile' | 'broker' | 'log-level' | 'link';

/** Top-level keys this module knows (kebab-case, as the flags), with how to check them. */
const KNOWN: Record<string, Kind> = {
  profile: 'profile',
  link: 'link',
  'mqtt-port': 'port',
  broker: 'broker',
  'state-dir': 'path',
  timing: 'timing',
  count: 'count',
  baud: 'baud',
  record: 'path',
  scenario: 'path',
  'log-level': 'log-level',
  'log-file': 'path',
  'control-port': 'port',
  'cloud-http-port': 'port',
  'cloud-https-port': 'port',
  'control-token': 'string',
};
const MODEM_KEYS = ['name', 'profile', 'link', 'imei', 'radio', 'wifi'];
/** The keys of a `radio:` block (kebab-case; camelCase accepted), as the README documents them. */
const RADIO_KEYS = ['operator', 'apn', 'ip', 'iccid', 'imsi', 'tac', 'ci', 'registration-ms', 'activate-ms', 'boot-ms', 'time-zone-quarters', 'psm'];
/** The keys of a `wifi:` block (kebab-case; camelCase accepted): settings.wifi's. */
const WIFI_KEYS = ['ssid', 'password', 'bssid', 'channel', 'rssi', 'ip', 'gateway', 'netmask', 'mac', 'join-at-boot', 'connect-ms', 'dhcp-ms', 'fail-ms', 'reconnect-interval-ms'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface VmodemConfig {
  /** The file it came from. */
  file?: string;
  /**
   * Top-level settings by the camelCase name of their `vmodem start` flag (`mqttPort`,
   * `stateDir`, `controlPort`, …), checked and with paths made absolute.
   */
  settings: Record<string, unknown>;
  /** The `modems:` list, when given. */
  modems?: ModemSpec[];
  /** The top-level `radio:` block: radio and SIM defaults for every modem. */
  radio?: Partial<RadioSettings>;
  /** The top-level `wifi:` block: access point and station defaults for every Wi-Fi modem. */
  wifi?: Partial<WifiSettings>;
}

export interface ParseConfigOptions {
  /** File name for messages; relative paths are resolved against its directory. */
  file?: string;
  /** Directory relative paths are resolved against (default: the file's, else cwd). */
  baseDir?: string;
  /** More top-level keys to accept as they are (kebab-case), e.g. flags only the CLI knows. */
  extraKeys?: readonly string[];
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Src {
  constructor(
    readonly name: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  error(p: (string | number)[], msg: string): VmodemConfigError {
    let line: number | undefined;
    for (let n = p.length; n >= 0 && line === undefined; n--) {
      const node = this.doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) line = this.lines.linePos(node.range[0]).line;
    }
    return new VmodemConfigError(`config ${this.name}${line !== undefined ? ` line ${line}` : ''}: ${msg}`);
  }
}

/** Flatten `a: { b: v }` to `a-b: v` (one level of nesting), keeping where each key came from. */
function flatten(root: Record<string, unknown>): { key: string; value: unknown; path: string[] }[] {
  const out: { key: string; value: unknown; path: string[] }[] = [];
  for (const [k, v] of Object.entries(root)) {
    if (k === 'modems' || k === 'radio' || k === 'wifi') continue;
    if (isRecord(v)) for (const [k2, v2] of Object.entries(v)) out.push({ key: `${kebab(k)}-${kebab(k2)}`, value: v2, path: [k, k2] });
    else out.push({ key: kebab(k), value: v, path: [k] });
  }
  return out;
}

/** The schema of one setting's value, by kind (zod); paths come out absolute. */
function kindSchema(kind: Kind, baseDir: string): z.ZodType {
  const whole = (min: number, max: number, what: string) => z.int({ error: mustBe(what) }).min(min, { error: mustBe(what) }).max(max, { error: mustBe(what) });
  const somePath = (what: string) => z.string({ error: mustBe(what) }).min(1, { error: mustBe(what) }).transform((v) => path.resolve(baseDir, v));
  switch (kind) {
    case 'port':
      return whole(0, 65535, 'a port number 0–65535');
    case 'count':
      return whole(1, 10_000, 'a whole number 1–10000');
    case 'baud':
      return whole(0, 16_000_000, 'a whole number of bits per second (e.g. 115200; 0 = unpaced)');
    case 'timing':
      return z.enum(['real', 'fast'], { error: mustBe('real or fast') });
    case 'log-level':
      return z.enum(LOG_LEVELS, { error: mustBe(LOG_LEVELS.join(', ')) });
    case 'profile': {
      const ids = listProfileIds();
      const what = mustBe(`a profile id (${ids.join(', ')})`);
      return z.string({ error: what }).refine((v) => ids.includes(v), { error: what });
    }
    case 'broker':
      return z.string({ error: mustBe('a broker URL (mqtt://host:port)') }).superRefine((v, ctx) => {
        try {
          parseBrokerUrl(v);
        } catch (err) {
          // parseBrokerUrl's message is a whole sentence about the flag; name the key instead.
          ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^--broker/, 'broker') });
        }
      });
    case 'link':
      return z.union([z.null(), somePath('a path (or null for none)')], { error: mustBe('a path (or null for none)') });
    case 'path':
      return somePath('a path');
    case 'string':
      return z.union([z.string(), z.number()], { error: mustBe('text') }).transform(String);
  }
}

/** "must be …" messages are about the key named in front; others are whole sentences. */
function phrase(key: string, message: string): string {
  return message.startsWith('must be ') ? `${key} ${message}` : message;
}

function checkValue(src: Src, p: (string | number)[], key: string, kind: Kind, v: unknown, baseDir: string): unknown {
  const r = kindSchema(kind, baseDir).safeParse(v);
  if (!r.success) throw src.error(p, phrase(key, firstProblem(r.error).message));
  return r.data;
}

const whole = (min: number, max: number) => z.int({ error: mustBe(`a whole number ${min}–${max}`) }).min(min, { error: mustBe(`a whole number ${min}–${max}`) }).max(max, { error: mustBe(`a whole number ${min}–${max}`) });
const digits = (n: string, what: string) =>
  z.preprocess((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v), z.string({ error: mustBe(what) }).regex(new RegExp(`^\\d{${n}}$`), { error: mustBe(what) }));
const hex = (max: number, what: string) =>
  z
    .string({ error: mustBe(what) })
    .regex(new RegExp(`^[0-9A-Fa-f]{1,${max}}$`), { error: mustBe(what) })
    .transform((v) => v.toUpperCase());
const text = (what: string) => z.union([z.string(), z.number()], { error: mustBe(what) }).transform(String);

/** A `radio:` block, keys already camelCase (see {@link radioFromYaml}). */
const RADIO_SCHEMA = z.strictObject(
  {
    operator: z
      .strictObject(
        {
          plmn: digits('5,6', 'an MCC+MNC of 5 or 6 digits (e.g. "46000")').optional(),
          long: text('text').optional(),
          short: text('text').optional(),
        },
        { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key "${iss.keys[0]}" (expected plmn, long, short)` : `must be a mapping { plmn?, long?, short? }, not ${typeName(iss.input)}`) },
      )
      .optional(),
    apn: text('text').optional(),
    ip: z.ipv4({ error: mustBe('an IPv4 address (e.g. 10.68.12.34)') }).optional(),
    iccid: digits('19,20', 'an ICCID of 19 or 20 digits (quote it)').optional(),
    imsi: digits('15', 'an IMSI of 15 digits (quote it)').optional(),
    tac: hex(4, 'a tracking area code of 1–4 hex digits').optional(),
    ci: hex(8, 'a cell id of 1–8 hex digits').optional(),
    registrationMs: whole(0, 600_000).optional(),
    activateMs: whole(0, 600_000).optional(),
    bootMs: whole(0, 600_000).optional(),
    timeZoneQuarters: whole(-48, 56).optional(),
    psm: z
      .strictObject(
        { activeTimeS: whole(0, 11_160).optional(), periodicTauS: whole(0, 35_712_000).optional() },
        { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key "${kebab(iss.keys[0]!)}" (expected active-time-s, periodic-tau-s)` : `must be a mapping { active-time-s?, periodic-tau-s? }, not ${typeName(iss.input)}`) },
      )
      .optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `unknown key "${kebab(iss.keys[0]!)}" (expected ${RADIO_KEYS.join(', ')})` : `must be a mapping of radio settings (${RADIO_KEYS.join(', ')}), not ${typeName(iss.input)}`,
  },
);

/** camelCase keys, one or two levels deep (radio: { registration-ms, psm: { active-time-s } }). */
function camelKeys(v: unknown, depth = 2): unknown {
  if (!isRecord(v) || depth === 0) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [camel(k), camelKeys(x, depth - 1)]));
}

/** A `radio:`/`wifi:` block's first problem, naming the key inside the block and its line. */
function blockError(src: Src, p: (string | number)[], raw: unknown, error: z.ZodError): VmodemConfigError {
  const where = p.map((x) => (typeof x === 'number' ? `[${x}]` : x)).join('.').replace(/\.\[/g, '[');
  const { path: at, message } = firstProblem(error);
  const field = at.map((x) => kebab(String(x))).join('.');
  const key = field ? `${where}.${field}` : where;
  // Point the line at the key as written (kebab or camel) when it is there.
  const written = isRecord(raw) && at.length > 0 && !(String(at[0]) in raw) ? [kebab(String(at[0])), ...at.slice(1)] : at;
  return src.error([...p, ...written.map((x) => (typeof x === 'number' ? x : String(x)))], phrase(key, message.startsWith('unknown key') ? `${key}: ${message}` : message));
}

/** Check a `radio:` block found at `p` (`['radio']` or `['modems', i, 'radio']`). */
function parseRadio(src: Src, p: (string | number)[], raw: unknown): Partial<RadioSettings> {
  const r = RADIO_SCHEMA.safeParse(camelKeys(raw));
  if (!r.success) throw blockError(src, p, raw, r.error);
  const out: Partial<RadioSettings> = {};
  const d = r.data;
  for (const [k, v] of Object.entries(d)) if (v !== undefined && k !== 'operator' && k !== 'psm') (out as Record<string, unknown>)[k] = v;
  if (d.operator) out.operator = d.operator as RadioSettings['operator'];
  if (d.psm) out.psm = d.psm as RadioSettings['psm'];
  return out;
}

const mac = (what: string) =>
  z
    .string({ error: mustBe(what) })
    .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, { error: mustBe(what) })
    .transform((v) => v.toLowerCase());
const ipv4 = (what: string) => z.ipv4({ error: mustBe(what) });

/** A `wifi:` block, keys already camelCase; limits as ESP-AT's AT+CWJAP/AT+CIPSTA take them. */
const WIFI_SCHEMA = z.strictObject(
  {
    // 802.11: an SSID is 1–32 bytes; WPA2-PSK passphrases are 8–63 characters, an open AP has none.
    ssid: text('text').pipe(z.string().min(1, { error: mustBe('an SSID of 1–32 characters') }).max(32, { error: mustBe('an SSID of 1–32 characters') })).optional(),
    password: text('text')
      .pipe(z.string().refine((v) => v === '' || (v.length >= 8 && v.length <= 63), { error: mustBe('a WPA2 passphrase of 8–63 characters, or "" for an open access point') }))
      .optional(),
    bssid: mac('a MAC address (e.g. c8:3a:35:5e:10:e1)').optional(),
    channel: whole(1, 14).optional(),
    // The control API's range for the signal (POST …/wifi rssi).
    rssi: whole(-100, 0).optional(),
    ip: ipv4('an IPv4 address (e.g. 192.168.1.100)').optional(),
    gateway: ipv4('an IPv4 address (e.g. 192.168.1.1)').optional(),
    netmask: ipv4('an IPv4 netmask (e.g. 255.255.255.0)').optional(),
    mac: mac('a MAC address (e.g. 3c:71:bf:33:af:fd)').optional(),
    joinAtBoot: z.boolean({ error: mustBe('true or false') }).optional(),
    connectMs: whole(0, 600_000).optional(),
    dhcpMs: whole(0, 600_000).optional(),
    failMs: whole(0, 600_000).optional(),
    reconnectIntervalMs: whole(0, 600_000).optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? `unknown key "${kebab(iss.keys[0]!)}" (expected ${WIFI_KEYS.join(', ')})` : `must be a mapping of Wi-Fi settings (${WIFI_KEYS.join(', ')}), not ${typeName(iss.input)}`,
  },
);

/** Check a `wifi:` block found at `p` (`['wifi']` or `['modems', i, 'wifi']`). */
function parseWifi(src: Src, p: (string | number)[], raw: unknown): Partial<WifiSettings> {
  const r = WIFI_SCHEMA.safeParse(camelKeys(raw, 1));
  if (!r.success) throw blockError(src, p, raw, r.error);
  return Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== undefined)) as Partial<WifiSettings>;
}

/** One entry of `modems:`; the whole-list rules (unique names and links) are checked after. */
function modemSchema(baseDir: string) {
  return z.strictObject(
    {
      name: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+$/)
        .refine((n) => !/^\d+$/.test(n))
        .optional(),
      profile: kindSchema('profile', baseDir).optional(),
      link: kindSchema('link', baseDir).optional(),
      imei: z
        .preprocess((v) => (typeof v === 'number' && Number.isInteger(v) ? String(v) : v), z.string().regex(/^\d{15}$/))
        .optional(),
      // Checked on their own by parseRadio/parseWifi (their messages name the key inside the block).
      radio: z.unknown().optional(),
      wifi: z.unknown().optional(),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key "${iss.keys[0]}" (expected ${MODEM_KEYS.join(', ')})` : `must be a mapping { name?, profile?, link?, imei?, radio?, wifi? }, not ${typeName(iss.input)}`) },
  );
}

function parseModems(src: Src, list: unknown, baseDir: string): ModemSpec[] {
  if (!Array.isArray(list) || list.length === 0) throw src.error(['modems'], 'modems must be a non-empty list of { name?, profile?, link?, imei?, radio?, wifi? }');
  const schema = modemSchema(baseDir);
  const names = new Map<string, number>();
  const links = new Map<string, number>();
  return list.map((raw, i) => {
    const p = ['modems', i];
    const where = `modems[${i}]`;
    const r = schema.safeParse(raw);
    if (!r.success) {
      const { path: at, message } = firstProblem(r.error);
      const field = at[0];
      const value = isRecord(raw) && typeof field === 'string' ? raw[field] : raw;
      const text =
        field === undefined || at.length > 1 || !isRecord(raw) || !(field in raw) || !MODEM_KEYS.includes(String(field))
          ? `${where}${message.startsWith('must be') ? ' ' : ': '}${message}`
          : field === 'name'
            ? `${where}: name must be letters, digits, "_", "." or "-" and not only digits (digits address modems by index), not ${typeName(value)}`
            : field === 'imei'
              ? `${where}: imei must be 15 digits (quote it to keep leading zeros), not ${typeName(value)}`
              : phrase(`${where}.${field}`, message);
      throw src.error([...p, ...at], text);
    }
    const m = r.data;
    const spec: ModemSpec = {};
    if (m.name !== undefined) {
      const prev = names.get(m.name);
      if (prev !== undefined) throw src.error([...p, 'name'], `${where}: the name "${m.name}" is already used by modems[${prev}]`);
      names.set(m.name, i);
      spec.name = m.name;
    }
    if (m.profile !== undefined) spec.profile = m.profile as string;
    if (m.link !== undefined) {
      const l = m.link as string | null;
      if (l !== null) {
        const prev = links.get(l);
        if (prev !== undefined) throw src.error([...p, 'link'], `${where}: link ${l} is already used by modems[${prev}]`);
        links.set(l, i);
      }
      spec.link = l;
    }
    if (m.imei !== undefined) spec.imei = m.imei;
    if (m.radio !== undefined) spec.radio = parseRadio(src, [...p, 'radio'], m.radio);
    if (m.wifi !== undefined) spec.wifi = parseWifi(src, [...p, 'wifi'], m.wifi);
    return spec;
  });
}

/**
 * A YAML syntax error in one line: the parser's message without its own position and excerpt
 * (they span several lines), then the line and column with the text of that line — or "at the
 * end of the file" when the parser only noticed there (issue 14 §9: a dangling `column 1:`).
 */
export function yamlProblem(err: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }, text: string): string {
  const what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  if (!pos) return what;
  const lines = text.split(/\r?\n/);
  const src = lines[pos.line - 1];
  if (src === undefined || (src.trim() === '' && pos.line >= lines.length)) return `${what} (at the end of the file)`;
  const excerpt = src.length > 60 ? `${src.slice(0, 60)}…` : src;
  return `${what} (line ${pos.line}, column ${pos.col}: ${JSON.stringify(excerpt)})`;
}

/** Parse and check a config file's text; errors name the file, line and key. */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): VmodemConfig {
  const name = opts.file ?? 'vmodem.yaml';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, logLevel: 'error' });
  if (doc.errors.length > 0) throw new VmodemConfigError(`config ${name}: not valid YAML: ${yamlProblem(doc.errors[0]!, text)}`);
  const src = new Src(name, doc, lines);
  const root = yamlToJs(doc, (msg) => new VmodemConfigError(`config ${name}: not valid YAML: ${msg}`));
  if (root === null || root === undefined) throw new VmodemConfigError(`config ${name}: the file is empty`);
  if (!isRecord(root)) throw src.error([], `a config file is a mapping of settings (and modems:), not ${typeName(root)}`);
  const baseDir = opts.baseDir ?? (opts.file ? path.dirname(path.resolve(opts.file)) : process.cwd());
  const extra = new Set((opts.extraKeys ?? []).map(kebab));
  const settings: Record<string, unknown> = {};
  for (const { key, value, path: p } of flatten(root)) {
    const kind = KNOWN[key];
    if (kind) settings[camel(key)] = checkValue(src, p, key, kind, value, baseDir);
    else if (extra.has(key)) settings[camel(key)] = value;
    else {
      // extraKeys (the CLI's flags) repeat most KNOWN keys: name each once.
      const known = [...new Set([...Object.keys(KNOWN), ...extra, 'modems', 'radio', 'wifi'])];
      throw src.error(p, `unknown setting "${key}" (settings: ${known.join(', ')})`);
    }
  }
  const cfg: VmodemConfig = { settings, ...(opts.file ? { file: opts.file } : {}) };
  if (root.modems !== undefined) {
    cfg.modems = parseModems(src, root.modems, baseDir);
    if (settings.count !== undefined) throw src.error(['count'], 'give either count or a modems list, not both');
  }
  if (root.radio !== undefined) {
    cfg.radio = parseRadio(src, ['radio'], root.radio);
    // A SIM identity belongs to one SIM: several modems would share it.
    const many = (cfg.modems?.length ?? 1) > 1 || (typeof settings.count === 'number' && settings.count > 1);
    for (const k of ['iccid', 'imsi'] as const) {
      if (many && cfg.radio[k] !== undefined) throw src.error(['radio', k], `radio.${k} at the top level would give every modem the same SIM; set it per modem (modems[i].radio.${k})`);
    }
  }
  if (root.wifi !== undefined) cfg.wifi = parseWifi(src, ['wifi'], root.wifi);
  if (settings.broker !== undefined && settings.mqttPort !== undefined) throw src.error(['broker'], 'give either broker (an external broker) or mqtt-port (the embedded one), not both');
  if (settings.controlToken !== undefined && settings.controlPort === undefined) throw src.error(['control'], 'control-token needs control-port (the control API is off without it)');
  return cfg;
}

/** Read and check a config file. */
export function loadConfigFile(file: string, opts: Omit<ParseConfigOptions, 'file'> = {}): VmodemConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VmodemConfigError(`config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseConfig(text, { ...opts, file });
}

/** The startVmodem options a config file describes (log settings are the caller's). */
export function configToVmodemOptions(cfg: VmodemConfig): VmodemOptions {
  const s = cfg.settings;
  const o: VmodemOptions = {};
  if (s.profile !== undefined) o.profile = s.profile as string;
  if (s.link !== undefined) o.link = s.link as string | null;
  if (s.mqttPort !== undefined) o.mqttPort = s.mqttPort as number;
  if (s.broker !== undefined) o.broker = s.broker as string;
  if (s.stateDir !== undefined) o.stateDir = s.stateDir as string;
  if (s.timing !== undefined) o.timing = s.timing as 'real' | 'fast';
  if (s.count !== undefined) o.count = s.count as number;
  if (s.baud !== undefined) o.baud = s.baud as number;
  if (s.record !== undefined) o.record = s.record as string;
  if (s.scenario !== undefined) o.scenario = s.scenario as string;
  if (s.controlPort !== undefined) o.control = { port: s.controlPort as number, ...(s.controlToken !== undefined ? { token: s.controlToken as string } : {}) };
  if (cfg.modems) o.modems = cfg.modems;
  if (cfg.radio) o.radio = cfg.radio;
  if (cfg.wifi) o.wifi = cfg.wifi;
  return o;
}

/**
 * For `vmodem start --config`: copy the file's settings into the parsed options of the `start`
 * command, except those given on the command line. Settings only the CLI knows (passed as
 * `extraKeys` to the parser) go through the flag's own parser.
 */
export function applyConfigToStartOptions(cfg: VmodemConfig, cmd: Command, options: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(cfg.settings)) {
    if (cmd.getOptionValueSource(key) === 'cli') continue;
    const opt = cmd.options.find((x) => x.attributeName() === key);
    if (!opt) continue;
    const known = KNOWN[kebab(key)] !== undefined;
    if (known || !opt.parseArg || value === null) {
      options[key] = value;
      continue;
    }
    try {
      options[key] = opt.parseArg(String(value), undefined);
    } catch (err) {
      throw new VmodemConfigError(`config ${cfg.file ?? ''}: ${kebab(key)}: ${(err as Error).message}`);
    }
  }
  if (cfg.modems && cmd.getOptionValueSource('count') === 'cli') {
    throw new VmodemConfigError(`--count conflicts with the modems listed in ${cfg.file ?? 'the config file'}; drop one`);
  }
}
