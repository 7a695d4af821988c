/**
 * `vmodem demo` (issue 11, issue 12 §2): the profile's drive script — by default
 * fixtures/drive/<profile>-telemetry.at, or the user's own `--drive` — runs on the modem's PTY the
 * way an MCU application would, so a person sees a live module in the dashboard within seconds:
 * it brings the module up, connects, publishes a sensor reading every few seconds and obeys a
 * command topic. One firmware for fleets, tests and the demo: there is no second, hand-written one.
 *
 * What this file adds to a plain drive run: it pauses the script while the dashboard's user has
 * taken the port over and resumes it when the port is handed back (the script goes on at its
 * `@label resume`), and it reports the script's status (`@status` lines, messages published,
 * commands handled, topics) to the dashboard as the modem's `demo` state.
 */
import type { Logger } from 'pino';
import { driveFleet, type DrivenFleet, type DrivenModem } from './drive-fleet.js';
import type { DriveRunner } from './drive-runner.js';
import type { DriveScript } from './drive-script.js';

export interface DemoTopics {
  telemetry: string;
  command: string;
  state: string;
}

/** The modem's `demo` state, as the dashboard shows it (ui/src/api.ts DemoStatus). */
export interface DemoStatus {
  state: 'starting' | 'registering' | 'connecting' | 'online' | 'offline' | 'paused' | 'stopped' | (string & {});
  detail?: string;
  profile: string;
  /** The script that runs. */
  script: string;
  clientId: string;
  topics: DemoTopics;
  published: number;
  commands: number;
  intervalMs: number;
}

/** What the demo needs of a running modem (vmodem.ts RunningModem has all of it). */
export interface DemoModem extends DrivenModem {
  readonly controller: {
    note(what: string, detail?: unknown): void;
    /** Every event of the modem (its MQTT packets among them) until the returned function is called. */
    watch(listener: (e: { type: string; dir?: string; cmd?: string }) => void): () => void;
  };
  readonly host: { watch(listener: (s: { takenOver: boolean }) => void): () => void };
}

export interface DriveDemo {
  readonly fleet: DrivenFleet;
  readonly status: DemoStatus;
  stop(): Promise<void>;
}

/** The script's parameters `vmodem demo` reads (the shipped telemetry scripts declare them all). */
const TOPIC_PARAMS = { telemetry: 'telemetry_topic', command: 'command_topic', state: 'state_topic' } as const;

export function startDriveDemo(modem: DemoModem, script: DriveScript, params: Readonly<Record<string, string>>, log: Logger): DriveDemo {
  let state: DemoStatus['state'] = 'starting';
  let detail = '';
  let published = 0;
  let runner: DriveRunner | undefined;
  const status = (): DemoStatus => {
    const get = (name: string) => runner?.get(name);
    const period = Number(get('period'));
    return {
      state,
      ...(detail ? { detail } : {}),
      profile: modem.profile.id,
      script: script.source ?? 'script',
      // Tencent signs in as <product><device> (FACTS "Cloud sign-in schemes").
      clientId: get('client') ?? `${get('product') ?? ''}${get('device') ?? ''}`,
      topics: {
        telemetry: get(TOPIC_PARAMS.telemetry) ?? '',
        command: get(TOPIC_PARAMS.command) ?? '',
        state: get(TOPIC_PARAMS.state) ?? '',
      },
      published,
      commands: runner?.stats.handled ?? 0,
      intervalMs: Number.isFinite(period) ? period : 0,
    };
  };
  const report = () => modem.controller.note('demo', status());
  const onEvent = (e: { type: string; dir?: string; cmd?: string }) => {
    if (e.type !== 'mqtt' || e.dir !== 'up' || e.cmd !== 'publish') return;
    published++;
    report();
  };
  // The messages the script publishes, counted as the modem's MQTT packets go up.
  const unwatchEvents = modem.controller.watch(onEvent);
  const fleet = driveFleet(script, [modem], log.child({ component: 'demo' }), {
    params,
    onStatus: (_i, s, d) => {
      state = s;
      detail = d;
      log.info({ state: s, detail: d }, 'demo firmware');
      report();
    },
  });
  runner = fleet.runners[0];
  const unwatch = modem.host.watch((s) => (s.takenOver ? runner?.pause() : runner?.resume()));
  report();
  return {
    fleet,
    get status() {
      return status();
    },
    stop: async () => {
      unwatch();
      await fleet.stop();
      unwatchEvents();
      state = 'stopped';
      detail = '';
      report();
    },
  };
}
