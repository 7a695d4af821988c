/**
 * The `vmodem` command line (commander): `vmodem start`, `vmodem profiles`.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { listProfileIds, loadProfile } from '../profiles/load-profile.js';
import { createLogger } from '../util/logger.js';
import { DEFAULT_LINK, DEFAULT_MQTT_PORT, DEFAULT_PROFILE, startVmodem, VmodemConfigError } from '../vmodem.js';
import type { TimingMode } from '../modem/timing.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0–65535');
  return n;
}

export function buildProgram(): Command {
  const program = new Command('vmodem')
    .description('A virtual cellular/Wi-Fi MQTT modem: a real serial port (PTY) speaking a vendor AT command set over a real MQTT broker.')
    .showHelpAfterError('(run vmodem --help for usage)');

  program
    .command('start')
    .description('Start a modem on a pseudo-terminal, with an embedded MQTT broker unless --broker is given.')
    .option('-p, --profile <id>', 'module profile (see `vmodem profiles`)', DEFAULT_PROFILE)
    .option('-l, --link <path>', 'stable path of the serial device (symlink to /dev/pts/N)', DEFAULT_LINK)
    .option('--mqtt-port <n>', 'port of the embedded broker on 127.0.0.1 (0 = pick a free port)', portNumber, DEFAULT_MQTT_PORT)
    .option('--broker <url>', 'use this broker (mqtt://host:port or mqtts://host:port) instead of the embedded one')
    .option('--state-dir <dir>', "where modules keep their flash (settings that survive a restart)", '.vmodem')
    .addOption(new Option('--timing <mode>', 'real: delays like the real module; fast: minimal delays (CI)').choices(['real', 'fast']).default('real'))
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('info'))
    .option('--log-file <path>', 'write JSON logs to this file instead of stderr')
    .action(async (o: StartOptions) => {
      await runStart(o);
    });

  program
    .command('profiles')
    .description('List the module profiles and the manuals they follow.')
    .action(() => {
      for (const id of listProfileIds()) {
        const p = loadProfile(id);
        process.stdout.write(`${id.padEnd(16)} ${p.module}\n${''.padEnd(16)} manual: ${p.manual.title} (${p.manual.file})\n`);
      }
    });

  return program;
}

interface StartOptions {
  profile: string;
  link: string;
  mqttPort: number;
  broker?: string;
  stateDir: string;
  timing: TimingMode;
  logLevel: (typeof LOG_LEVELS)[number];
  logFile?: string;
}

async function runStart(o: StartOptions): Promise<void> {
  const log = createLogger({ level: o.logLevel, file: o.logFile });
  let vm;
  try {
    vm = await startVmodem({
      profile: o.profile,
      link: o.link,
      mqttPort: o.mqttPort,
      broker: o.broker,
      stateDir: o.stateDir,
      timing: o.timing,
      log,
    });
  } catch (err) {
    const msg = err instanceof VmodemConfigError ? err.message : `unexpected failure: ${(err as Error).stack ?? String(err)}`;
    process.stderr.write(`vmodem: ${msg}\n`);
    log.flush?.();
    process.exitCode = 2;
    return;
  }
  const lines = [
    `vmodem ${vm.profile.id} (${vm.profile.module})`,
    `  serial:  ${vm.linkPath ?? vm.devicePath}${vm.linkPath ? ` -> ${vm.devicePath}` : ''}`,
    `  broker:  ${vm.brokerUrl}${vm.broker ? ' (embedded)' : ' (external)'}`,
    `  timing:  ${o.timing}`,
    `  try:     screen ${vm.linkPath ?? vm.devicePath} 115200    |    mosquitto_sub -p ${vm.broker?.port ?? '<port>'} -t '#' -v`,
    'Ctrl+C stops.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    vm.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`vmodem: error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
}

export async function main(argv = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
