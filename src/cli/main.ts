/**
 * The `vmodem` command line (commander): `vmodem start`, `vmodem profiles`.
 *
 * Every mistake on the command line ends the process with exit code 2 and one line on stderr
 * (`vmodem: …`); help goes to stdout with exit code 0.
 *
 * The CLI writes, listens for signals and exits only through a `CliIo` (the process by default),
 * so tests run it in-process: `main(argv, io)` with buffers and an emitter for signals.
 */
import type { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { listProfileIds } from '../profiles/profile-files.js';
import { createLogger, type Logger } from '../util/logger.js';
import { DEFAULT_LINK, DEFAULT_MQTT_PORT, DEFAULT_PROFILE, ensureDir, startVmodem, VmodemConfigError, type RunningVmodem } from '../vmodem.js';
import type { TimingMode } from '../modem/timing.js';
import { registerCtl } from './ctl.js';
import { startDriveDemo, type DriveDemo } from '../demo/drive-demo.js';
import { loadDriveScript } from '../demo/drive-fleet.js';
import { parseDriveParams, type DriveScript } from '../demo/drive-script.js';
import type { VmodemConfig } from '../config/config-file.js';
import { readFile, writeFile } from 'node:fs/promises';
import { readyInfo, removeReadyFile, writeReadyFile } from './ready.js';
import { watchStarters, type ProcessTable } from './parent-watch.js';
import { attachMonitor } from './monitor.js';
import { probeBroker } from './broker-probe.js';

// Commands other than `start`, and start options that few runs use (--config: YAML), load their
// modules when they run: a cold `vmodem start` pays only for what it uses (issue 12 §3).
const lazy = {
  coverage: () => import('../check/coverage.js'),
  // The profile schema (zod): `start` loads it only for a profile the build did not validate.
  loadProfile: () => import('../profiles/load-profile.js'),
  configFile: () => import('../config/config-file.js'),
  toTranscript: () => import('../record/to-transcript.js'),
  checkCommand: () => import('./check-command.js'),
};

/** Where the CLI writes, which signals stop it, and how it exits. */
export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  /** SIGINT, SIGTERM, SIGHUP: the process, or an emitter a test emits them on. */
  signals: Pick<EventEmitter, 'on' | 'once' | 'off'>;
  /** End the process (a stopped `vmodem start`). */
  exit(code: number): void;
  /**
   * Who started this process, for `vmodem start`'s exit-with-parent watch (default: the real
   * process table; tests pass their own and a short interval).
   */
  starters?: { table: ProcessTable; self: number; intervalMs: number };
}

/** The real process: stdout, stderr, its signals, process.exit. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, signals: process, exit: (code) => process.exit(code) };
}

/** One invocation's exit code (actions set it; `main` returns it). */
export interface CliStatus {
  exitCode: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Exit code for a bad command line or configuration. */
export const EXIT_USAGE = 2;
/** How long stopping may take after a signal before the process gives up. */
const STOP_TIMEOUT_MS = 10_000;

function portNumber(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0–65535');
  return n;
}

/** Errors as one line: `vmodem: <what> (see `vmodem start --help`)`. */
function oneLineErrors(cmd: Command, helpHint: string): Command {
  return cmd.configureOutput({
    outputError: (str, write) => {
      const msg = str.replace(/^error: /, '').replace(/\s+/g, ' ').trim();
      write(`vmodem: ${msg} (see \`${helpHint}\`)\n`);
    },
  });
}

const START_EXAMPLES = `
Examples:
  vmodem start
      quectel-ec200 on /tmp/vmodem0, embedded broker on 127.0.0.1:1883
  vmodem start --link /tmp/ttyUSB0 --mqtt-port 0 --timing fast
      for CI: a free broker port (printed in the banner), minimal delays
  vmodem start --broker mqtt://127.0.0.1:1884
      use a broker that is already running (no embedded broker is started)
  vmodem start --config vmodem.yaml
      the settings (and a list of modems with their own profile, name, link, IMEI) from a file
  vmodem start --mqtt-port 0 --timing fast --scenario fixtures/scenarios/broker-flaps.yaml
      run a timeline of faults and cloud messages (README, "Scenarios")
  vmodem start --mqtt-port 0 --control-port 0 --ready-file /tmp/vmodem.json &
  vmodem ctl wait-ready --ready-file /tmp/vmodem.json
      for CI: start in the background, continue once it accepts connections
  vmodem start --monitor
      print the serial conversation (host lines, responses, URCs) as it happens

Firmware opens the link like /dev/ttyUSB0 (any baud rate, raw 8N1). Whatever host the firmware
passes to AT+QMTOPEN, the modem connects to the broker above. SIGINT/SIGTERM stop the modem and
remove the link. vmodem also stops when the process that started it (a shell, npm, npx, a test
runner) is gone; --no-exit-with-parent keeps it running (nohup, setsid).`;

/** The package version (dist/cli/main.js and src/cli/main.ts both sit two levels below it). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(io: CliIo = processIo(), status: CliStatus = { exitCode: 0 }): Command {
  const program = new Command('vmodem')
    // Set before the subcommands are made: they inherit it.
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .version(packageVersion(), '-V, --version', 'print the version')
    .description('A virtual cellular/Wi-Fi MQTT modem: a real serial port (PTY) speaking a vendor AT command set over a real MQTT broker.')
    .exitOverride()
    .showSuggestionAfterError(true);
  oneLineErrors(program, 'vmodem --help');

  const start = program
    .command('start')
    .description('Start a modem on a pseudo-terminal, with an embedded MQTT broker unless --broker is given.')
    .option('-p, --profile <id>', 'module profile to emulate (list them with `vmodem profiles`)', DEFAULT_PROFILE)
    .option('-l, --link <path>', 'path the firmware opens: a symlink to the PTY (/dev/pts/N), removed on exit', DEFAULT_LINK)
    .addOption(
      new Option('--mqtt-port <n>', 'port of the embedded broker on 127.0.0.1 (0 = pick a free port)')
        .argParser(portNumber)
        .default(DEFAULT_MQTT_PORT)
        .conflicts('broker'),
    )
    .option('--broker <url>', 'use this broker instead of the embedded one: mqtt://host[:port] or mqtts://host[:port]')
    .option('--state-dir <dir>', "where modules keep their flash (settings that survive a restart)", '.vmodem')
    .addOption(
      new Option('--timing <mode>', 'real: answer with the real module\'s delays; fast: minimal delays (tests, CI)')
        .choices(['real', 'fast'])
        .default('real'),
    )
    .option('--count <n>', 'start N modems on one broker: links <link>, <link+1>, … each with its own IMEI', wholeNumber('--count'), 1)
    .option('--first-index <n>', 'number the modems from N: names modem<N>…, IMEIs the profile\'s + N… (give each node of a cluster its own range)', wholeNumber('--first-index'))
    .option('--baud <rate>', 'pace serial output like a UART at this baud rate (10 bits per byte); 0 = unpaced', wholeNumber('--baud'), 0)
    .option('--record <file>', 'record every byte, URC and MQTT packet to this JSON-lines file (replay with `vmodem check`)')
    .option('--registry <file>', 'device registry of the virtual cloud (YAML/JSON, see fixtures/registry/example.yaml); without it any sign-in is accepted')
    .option('--firmware-dir <dir>', 'firmware images the virtual cloud serves for OTA downloads')
    .addOption(
      new Option('--cloud-http-port <n>', 'port of the virtual cloud\'s HTTP endpoints (registration, firmware) on 127.0.0.1 (0 = a free port)')
        .argParser(portNumber)
        .conflicts('broker'),
    )
    .addOption(
      new Option('--cloud-https-port <n>', 'port of the virtual cloud\'s HTTPS endpoints (certificate from <state-dir>/tls; 0 = a free port)')
        .argParser(portNumber)
        .conflicts('broker'),
    )
    .addOption(
      new Option('--mqtt-tls-port <n>', 'port of the embedded broker\'s TLS listener (CA in <state-dir>/tls/ca.pem; 0 = a free port)')
        .argParser(portNumber)
        .default(0)
        .conflicts('broker'),
    )
    .option('--scenario <file>', 'run a scenario (YAML timeline of faults and cloud messages) once the modems are up')
    .option('--cluster <url>', 'make the embedded broker one node of a cluster meeting in this Redis (redis://host:port): messages, retained messages, sessions, the cloud\'s registrations and the modem list are shared')
    .option('--node-id <id>', 'this node\'s id in the cluster (default <hostname>-<pid>)')
    .option('--drive <script>', 'give every modem a built-in firmware running this drive script on its PTY (shipped: fixtures/drive/<profile>-telemetry.at and <profile>-echo.at for every profile)')
    .option('--drive-param <name=value>', 'set a @param of the drive script, e.g. period=1000 (repeatable)', collect, [])
    .option('--config <file>', 'read settings and a modems list from a YAML file (flags given here win over it)')
    .addOption(new Option('--control-port <n>', 'serve the HTTP + WebSocket control API on 127.0.0.1:<n> (0 = a free port; URL and token printed)').argParser(portNumber))
    .option('--control-token <token>', 'token the control API requires (default: a random one, printed in the banner)')
    .option('--ui', 'serve the web dashboard on the control port (a free one without --control-port); its URL, with the token, is printed')
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('info'))
    .option('--log-file <path>', 'write JSON logs to this file instead of stderr (stderr: pretty on a terminal, JSON otherwise)')
    .option('--ready-file <path>', 'once everything accepts connections, write JSON here: links, ports, broker, control URL and token (removed on exit)')
    .option('--json', 'print the banner as one line of JSON (the --ready-file object) instead of text')
    .option('--monitor', 'print the serial conversation as it happens: host lines (>), responses and URCs (<), prompts; colours on a terminal')
    .option('--no-exit-with-parent', 'keep running when the process that started vmodem is gone (default: stop)')
    .addHelpText('after', START_EXAMPLES)
    .action(async (o: StartOptions, cmd: Command) => {
      await runStart(o, io, status, cmd);
    });
  oneLineErrors(start, 'vmodem start --help');

  const demo = program
    .command('demo')
    .description('Start a modem, the web dashboard and the profile\'s drive script on the serial port (fixtures/drive/<profile>-telemetry.at): it brings the module up, connects, publishes a sensor reading every few seconds and obeys a command topic.')
    .addOption(new Option('-p, --profile <id>', 'module profile to emulate; the demo runs its telemetry script').choices(listProfileIds()).default(DEFAULT_PROFILE))
    .option('--drive <script>', 'run this drive script instead (e.g. fixtures/drive/<profile>-echo.at, or your own; src/demo/drive-script.ts)')
    .option('--drive-param <name=value>', 'set a @param of the script, e.g. host=… (repeatable; --interval sets period)', collect, [])
    .option('-l, --link <path>', 'path of the serial device (a symlink to the PTY)', DEFAULT_LINK)
    .addOption(new Option('--control-port <n>', 'port of the dashboard and control API on 127.0.0.1 (0 = a free port)').argParser(portNumber).default(0))
    .option('--control-token <token>', 'token the dashboard and API require (default: a random one, in the printed URL)')
    .addOption(new Option('--mqtt-port <n>', 'port of the embedded broker on 127.0.0.1 (0 = a free port)').argParser(portNumber).default(0))
    .option('--interval <s>', 'seconds between sensor readings (the script\'s period)', wholeNumber('--interval'), 5)
    .addOption(new Option('--timing <mode>', 'real: the module\'s own delays; fast: minimal delays').choices(['real', 'fast']).default('real'))
    .option('--state-dir <dir>', 'where modules keep their flash', '.vmodem')
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('warn'))
    .option('--log-file <path>', 'write JSON logs to this file instead of stderr')
    .addHelpText('after', `
Open the printed dashboard URL in a browser. Take over the terminal there to type AT commands
yourself (the demo firmware pauses), hand it back to let the firmware carry on. Publish to the
command topic, e.g. {"led":"on"} or {"interval":2}, and watch the firmware answer on its state topic.

The firmware is a drive script, the same that \`vmodem start --drive\` runs on a fleet. Shipped
for every profile (vmodem profiles): fixtures/drive/<profile>-telemetry.at (readings every
--interval seconds, obeys {"led":"on"|"off"}, {"interval":<s>}, "ping" on its command topic;
the demo's default) and fixtures/drive/<profile>-echo.at (publishes back what it receives).`)
    .action(async (o: DemoOptions, cmd: Command) => {
      if (o.interval < 1) {
        io.stderr.write('vmodem: --interval must be at least 1 second (see `vmodem demo --help`)\n');
        status.exitCode = EXIT_USAGE;
        return;
      }
      const file = o.drive ?? demoScriptPath(o.profile);
      let script: DriveScript;
      let params: Record<string, string>;
      try {
        params = parseDriveParams(o.driveParam);
        script = loadDriveScript(file, [o.profile], params);
        // --interval is the script's period unless --drive-param gives one.
        if (params.period === undefined && script.params.some((p) => p.name === 'period')) params.period = String(o.interval * 1000);
      } catch (err) {
        io.stderr.write(`vmodem: ${(err as Error).message} (see \`vmodem demo --help\`)\n`);
        status.exitCode = EXIT_USAGE;
        return;
      }
      // The demo starts the script itself (pausing it for the dashboard's terminal), not as --drive.
      const { drive: _drive, driveParam: _driveParam, interval: _interval, ...start } = o;
      await runStart({ ...start, mqttTlsPort: 0, count: 1, baud: 0, ui: true, demo: { script, params } }, io, status, cmd);
    });
  oneLineErrors(demo, 'vmodem demo --help');

  const profiles = program
    .command('profiles')
    .description('List the module profiles and the manuals they follow; with a profile id and --commands, its AT command coverage.')
    .argument('[id]', 'a profile id (with --commands)')
    .option('--commands', 'for every AT command the manual defines, the forms vmodem implements; then the commands it adds and where they come from')
    .option('--markdown', 'with --commands: as a Markdown table (docs/commands/<id>.md)')
    .option('--json', 'the list as JSON: id, module, manual title and file')
    .action(async (id: string | undefined, o: { commands?: boolean; markdown?: boolean; json?: boolean }) => {
      const { loadProfile } = await lazy.loadProfile();
      if (o.commands || id !== undefined) {
        if (id === undefined) throw new InvalidArgumentError('--commands needs a profile id (vmodem profiles <id> --commands)');
        if (!listProfileIds().includes(id)) throw new InvalidArgumentError(`unknown profile "${id}" (vmodem profiles lists them)`);
        const { coverage, coverageMarkdown, coverageText } = await lazy.coverage();
        const { COMMAND_SETS } = await import('../vendors/registry.js');
        const c = await coverage(loadProfile(id), COMMAND_SETS);
        io.stdout.write(o.markdown ? coverageMarkdown(c) : coverageText(c));
        return;
      }
      if (o.json) {
        const list = listProfileIds().map((pid) => {
          const p = loadProfile(pid);
          return { id: pid, module: p.module, manual: { title: p.manual.title, file: p.manual.file } };
        });
        io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      for (const id of listProfileIds()) {
        const p = loadProfile(id);
        io.stdout.write(`${id.padEnd(16)} ${p.module}\n${''.padEnd(16)} manual: ${p.manual.title} (${p.manual.file})\n`);
      }
    });
  oneLineErrors(profiles, 'vmodem profiles --help');

  const check = program
    .command('check')
    .description('Replay the host side of transcripts (.at) or recordings (.jsonl) against a fresh modem each; exit 0 when every one answers the same, 1 with the first difference of each that does not, 2 when a file cannot be checked (unreadable, does not parse, empty).')
    .argument('<transcript...>', 'transcript files (fixtures/transcripts/**.at format), --record files, or directories (searched for .at and .jsonl)')
    .option('-p, --profile <id>', 'profile to check against (default: @profile in the file, the recording\'s, or the folder name)')
    .option('--junit <file>', 'also write a JUnit XML report: one test case per file')
    .action(async (files: string[], o: { profile?: string; junit?: string }) => {
      status.exitCode = await (await lazy.checkCommand()).runCheckCommand(files, o, io);
    });
  oneLineErrors(check, 'vmodem check --help');

  const convert = program
    .command('convert')
    .description('Turn a recording (vmodem start --record, .jsonl) into a transcript (.at) that `vmodem check` replays. In a recording the hex fields are the bytes; text fields are informative.')
    .argument('<recording>', 'a .jsonl file written by --record (or exported from the dashboard)')
    .option('-o, --output <file>', 'write the transcript here (default: stdout)')
    .action(async (file: string, o: { output?: string }) => {
      let text: string;
      try {
        text = (await lazy.toTranscript()).convertRecording(await readFile(file, 'utf8')).text;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        io.stderr.write(`vmodem: convert ${file}: ${e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'EACCES' ? `cannot read it (${e.code})` : `not a vmodem recording: ${e.message}`}\n`);
        status.exitCode = EXIT_USAGE;
        return;
      }
      const out = text.endsWith('\n') ? text : `${text}\n`;
      if (o.output === undefined) {
        io.stdout.write(out);
        return;
      }
      try {
        await writeFile(o.output, out);
      } catch (err) {
        io.stderr.write(`vmodem: convert -o ${o.output}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
        status.exitCode = EXIT_USAGE;
      }
    });
  oneLineErrors(convert, 'vmodem convert --help');

  registerCtl(program, io, status);

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function wholeNumber(flag: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} must be a whole number`);
    return Number(v);
  };
}

interface DemoOptions {
  profile: string;
  drive?: string;
  driveParam: string[];
  link: string;
  controlPort: number;
  controlToken?: string;
  mqttPort: number;
  interval: number;
  timing: TimingMode;
  stateDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  logFile?: string;
}

interface StartOptions {
  readyFile?: string;
  json?: boolean;
  monitor?: boolean;
  /** false with --no-exit-with-parent. */
  exitWithParent?: boolean;
  /** Serve the dashboard (a free control port unless --control-port). */
  ui?: boolean;
  /** `vmodem demo`: run this drive script on the first modem's port (src/demo/drive-demo.ts). */
  demo?: { script: DriveScript; params: Record<string, string> };
  registry?: string;
  firmwareDir?: string;
  cloudHttpPort?: number;
  cloudHttpsPort?: number;
  mqttTlsPort: number;
  count: number;
  firstIndex?: number;
  baud: number;
  record?: string;
  controlPort?: number;
  controlToken?: string;
  scenario?: string;
  cluster?: string;
  nodeId?: string;
  drive?: string;
  /** --drive-param name=value, as given. */
  driveParam?: string[];
  config?: string;
  profile: string;
  link: string;
  mqttPort: number;
  broker?: string;
  stateDir: string;
  timing: TimingMode;
  logLevel: (typeof LOG_LEVELS)[number];
  logFile?: string;
}

/** Fail early, in one line, on a log file that cannot be written (pino would fail later, loudly). */
async function checkLogFile(file: string): Promise<void> {
  if (!file) throw new VmodemConfigError('--log-file is empty');
  try {
    await ensureDir(path.dirname(path.resolve(file)));
    closeSync(openSync(file, 'a'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new VmodemConfigError(`--log-file ${file}: cannot write (${e.code ?? e.message})`);
  }
}

/** The shipped script `vmodem demo` runs for a profile (fixtures/ sits two levels above dist/cli and src/cli). */
function demoScriptPath(profile: string): string {
  return fileURLToPath(new URL(`../../fixtures/drive/${profile}-telemetry.at`, import.meta.url));
}

function banner(vm: RunningVmodem, timing: TimingMode, firmware?: DriveDemo): string {
  const serial = vm.linkPath ?? vm.devicePath;
  let sub: string;
  if (vm.broker) {
    sub = `mosquitto_sub -h ${vm.broker.host} -p ${vm.broker.port} -t '#' -v`;
  } else {
    const u = new URL(vm.brokerUrl);
    const tls = u.protocol !== 'mqtt:' && u.protocol !== 'tcp:';
    sub = `mosquitto_sub -h ${u.hostname} -p ${u.port || (tls ? 8883 : 1883)}${tls ? ' --insecure --capath /etc/ssl/certs' : ''} -t '#' -v`;
  }
  const profileIds = [...new Set(vm.modems.map((m) => m.profile.id))];
  const serialLines =
    vm.modems.length === 1
      ? [`  serial:  ${serial}${vm.linkPath ? ` -> ${vm.devicePath}` : ''}`]
      : vm.modems.map((m) => `  ${m.name.padEnd(8)} ${m.linkPath ?? m.devicePath}${m.linkPath ? ` -> ${m.devicePath}` : ''}  IMEI ${m.imei}${profileIds.length > 1 ? `  ${m.profile.id}` : ''}`);
  // Several profiles: name them all (each modem's own is on its line below).
  const head =
    profileIds.length > 1
      ? `vmodem × ${vm.modems.length}: ${profileIds.join(', ')}`
      : `vmodem ${vm.profile.id} (${vm.profile.module})${vm.modems.length > 1 ? ` × ${vm.modems.length}` : ''}`;
  return [
    head,
    ...serialLines,
    `  broker:  ${vm.brokerUrl}${vm.broker ? ' (embedded)' : ' (external)'}`,
    ...(vm.drive ? [`  drive:   ${vm.drive.script.source ?? 'script'} on ${vm.modems.length === 1 ? 'the modem' : `each of ${vm.modems.length} modems`}`] : []),
    ...(vm.cluster ? [`  cluster: node ${vm.cluster.nodeId} (list every node's modems: vmodem ctl cluster)`] : []),
    ...(vm.broker?.tlsUrl ? [`  tls:     ${vm.broker.tlsUrl} (CA ${vm.broker.caPath})`] : []),
    ...(vm.cloud?.http?.httpUrl ? [`  cloud:   ${vm.cloud.http.httpUrl}${vm.cloud.http.httpsUrl ? `  ${vm.cloud.http.httpsUrl}` : ''}${vm.cloud.registry.strict ? '' : ' (no registry: any sign-in accepted)'}`] : []),
    `  timing:  ${timing}`,
    ...(vm.scenario ? [`  scenario: ${vm.scenario.scenario.name ?? vm.scenario.scenario.file ?? 'unnamed'} (${vm.scenario.scenario.steps.length} steps)`] : []),
    ...(vm.control
      ? [
          `  control: ${vm.control.url}  token ${vm.control.token}`,
          `  ctl:     VMODEM_CONTROL_URL=${vm.control.url} VMODEM_CONTROL_TOKEN=${vm.control.token} vmodem ctl inspect`,
        ]
      : []),
    ...(vm.control?.uiUrl ? [`  ui:      ${vm.control.uiUrl}`] : []),
    ...(firmware ? demoLines(firmware) : []),
    `  try:     screen ${serial} 115200    |    ${sub}`,
    'Ctrl+C stops.',
  ].join('\n');
}

/** The banner's demo lines: the script, and its topics when it names them. */
function demoLines(demo: DriveDemo): string[] {
  const s = demo.status;
  const { telemetry, state, command } = s.topics;
  return [
    `  demo:    ${path.relative(process.cwd(), s.script) || s.script} as ${s.clientId || 'the firmware'}`,
    ...(telemetry ? [`           publishes to ${telemetry}${state ? ` and ${state}` : ''},`] : []),
    ...(command ? [`           listens on ${command} (try {"led":"on"} or {"interval":2})`] : []),
  ];
}

async function runStart(o: StartOptions, io: CliIo, status: CliStatus, cmd?: Command): Promise<void> {
  let vm: RunningVmodem;
  let log: Logger | undefined;
  try {
    let cfg: VmodemConfig | undefined;
    if (o.config !== undefined) {
      // Every flag of `start` may be a key of the file; flags given on the command line win.
      const flags = (cmd?.options ?? []).map((x) => (x.long ?? '').replace(/^--/, '')).filter((f) => f && f !== 'config' && !f.startsWith('no-'));
      const { applyConfigToStartOptions, loadConfigFile } = await lazy.configFile();
      cfg = loadConfigFile(o.config, { extraKeys: flags });
      if (cmd) applyConfigToStartOptions(cfg, cmd, o as unknown as Record<string, unknown>);
    }
    if (o.ui && o.controlPort === undefined) o.controlPort = 0;
    if (o.controlToken !== undefined && o.controlPort === undefined) {
      throw new VmodemConfigError('--control-token needs --control-port (the control API is off without it)');
    }
    if (o.logFile !== undefined) await checkLogFile(o.logFile);
    let driveParams: Record<string, string> | undefined;
    if (o.driveParam !== undefined && o.driveParam.length > 0) {
      if (o.drive === undefined) throw new VmodemConfigError('--drive-param needs --drive');
      try {
        driveParams = parseDriveParams(o.driveParam);
      } catch (err) {
        throw new VmodemConfigError((err as Error).message);
      }
    }
    log = createLogger({
      level: o.logLevel,
      file: o.logFile,
      // In-process (a test's io), logs go to its stderr; the process's own stderr is fd 2.
      ...(io.stderr !== process.stderr ? { stream: io.stderr, pretty: Boolean(io.stderr.isTTY) } : {}),
    });
    vm = await startVmodem({
      profile: o.profile,
      link: o.link,
      mqttPort: o.mqttPort,
      broker: o.broker,
      stateDir: o.stateDir,
      timing: o.timing,
      count: o.count,
      ...(o.firstIndex !== undefined ? { firstIndex: o.firstIndex } : {}),
      baud: o.baud,
      record: o.record,
      mqttTlsPort: o.mqttTlsPort,
      ...(o.registry !== undefined ? { registry: o.registry } : {}),
      ...(o.firmwareDir !== undefined ? { firmwareDir: o.firmwareDir } : {}),
      ...(o.cloudHttpPort !== undefined ? { cloudHttpPort: o.cloudHttpPort } : {}),
      ...(o.cloudHttpsPort !== undefined ? { cloudHttpsPort: o.cloudHttpsPort } : {}),
      ...(o.scenario !== undefined ? { scenario: o.scenario } : {}),
      ...(o.cluster !== undefined ? { cluster: o.cluster } : {}),
      ...(o.nodeId !== undefined ? { nodeId: o.nodeId } : {}),
      ...(o.drive !== undefined ? { drive: o.drive } : {}),
      ...(driveParams ? { driveParams } : {}),
      ...(cfg?.modems ? { modems: cfg.modems } : {}),
      ...(cfg?.radio ? { radio: cfg.radio } : {}),
      ...(cfg?.wifi ? { wifi: cfg.wifi } : {}),
      ...(o.controlPort !== undefined ? { control: { port: o.controlPort, token: o.controlToken, ...(o.ui ? { ui: true } : {}) } } : {}),
      log,
    });
  } catch (err) {
    const config = err instanceof VmodemConfigError;
    const msg = config ? (err as Error).message : `unexpected failure: ${(err as Error).message ?? String(err)}`;
    if (!config) log?.error({ err }, 'start failed');
    io.stderr.write(`vmodem: ${msg.replace(/\s+/g, ' ').trim()}\n`);
    status.exitCode = config ? EXIT_USAGE : 1;
    return;
  }
  const logger = log;
  if (o.broker !== undefined) {
    // Started anyway (the broker may come later), but say so now rather than at the first AT+QMTOPEN.
    const problem = await probeBroker(o.broker);
    if (problem) io.stderr.write(`vmodem: warning: the broker ${o.broker} is not reachable (${problem}); the firmware's opens fail until it is\n`);
  }
  let firmware: DriveDemo | undefined;
  if (o.demo) firmware = startDriveDemo(vm.modems[0]!, o.demo.script, o.demo.params, logger);
  const info = readyInfo(vm, o.timing);
  io.stdout.write(o.json ? `${JSON.stringify(info)}\n` : `${banner(vm, o.timing, firmware)}\n`);
  const stopMonitor = o.monitor ? attachMonitor(vm.modems, (s) => void io.stdout.write(s), Boolean(io.stdout.isTTY) && !process.env.NO_COLOR) : () => {};
  if (o.readyFile !== undefined) {
    try {
      writeReadyFile(o.readyFile, info);
    } catch (err) {
      io.stderr.write(`vmodem: --ready-file ${o.readyFile}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
    }
  }
  const stopWatch =
    o.exitWithParent === false
      ? () => {}
      : watchStarters({
          ...(io.starters ?? {}),
          onGone: (reason) => {
            logger.info({ reason }, 'the process that started vmodem is gone');
            stop('parent-exit');
          },
        });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const giveUp = setTimeout(() => {
      io.stderr.write(`vmodem: did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway\n`);
      io.exit(1);
    }, STOP_TIMEOUT_MS);
    giveUp.unref();
    for (const [sig, fn] of handlers) io.signals.off(sig, fn);
    stopWatch();
    stopMonitor();
    if (o.readyFile !== undefined) removeReadyFile(o.readyFile);
    (firmware?.stop() ?? Promise.resolve()).then(() => vm.stop()).then(
      () => {
        clearTimeout(giveUp);
        io.exit(0);
      },
      (err: unknown) => {
        clearTimeout(giveUp);
        io.stderr.write(`vmodem: error while stopping: ${(err as Error).message}\n`);
        io.exit(1);
      },
    );
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, () => stop(sig)] as const);
  for (const [sig, fn] of handlers) io.signals.on(sig, fn);
}

/**
 * Run the CLI. Resolves with the exit code to use when the command is done (`vmodem start` keeps
 * running until a signal and exits by itself, through `io.exit`).
 */
export async function main(argv = process.argv, io: CliIo = processIo()): Promise<number> {
  const status: CliStatus = { exitCode: 0 };
  try {
    await buildProgram(io, status).parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // The message was already written (help to stdout, errors as one line to stderr).
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    throw err;
  }
  return status.exitCode;
}
