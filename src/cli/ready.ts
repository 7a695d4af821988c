/**
 * What a CI script needs to know once vmodem is up (issue 14 §4): the serial link(s), the ports,
 * the control API's URL and token. `vmodem start --ready-file <path>` writes it as JSON once
 * everything accepts connections (startVmodem resolves only after the broker, the cloud's HTTP
 * endpoints, the PTYs and the control server listen), and `--json` prints the same object as the
 * banner. `vmodem ctl wait-ready` waits for it.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { TimingMode } from '../modem/timing.js';
import type { RunningVmodem } from '../vmodem.js';

export interface ReadyInfo {
  /** Format of this object; grows only by new fields. */
  format: 1;
  pid: number;
  /** The first modem's profile and the path its firmware opens (link, else /dev/pts/N). */
  profile: string;
  link: string;
  device: string;
  modems: { name: string; index: number; profile: string; link: string | null; device: string; imei: string }[];
  broker: { url: string; embedded: boolean; tlsUrl: string | null; ca: string | null };
  ports: { mqtt: number | null; mqttTls: number | null; control: number | null; cloudHttp: number | null; cloudHttps: number | null };
  /** The control API (null without --control-port / --ui). */
  control: { url: string; token: string; ui: string | null } | null;
  timing: TimingMode;
}

function portOf(url: string | undefined): number | null {
  if (!url) return null;
  const p = new URL(url).port;
  return p ? Number(p) : null;
}

export function readyInfo(vm: RunningVmodem, timing: TimingMode, pid = process.pid): ReadyInfo {
  const first = vm.modems[0]!;
  const http = vm.cloud?.http;
  return {
    format: 1,
    pid,
    profile: first.profile.id,
    link: first.linkPath ?? first.devicePath,
    device: first.devicePath,
    modems: vm.modems.map((m) => ({ name: m.name, index: m.index, profile: m.profile.id, link: m.linkPath ?? null, device: m.devicePath, imei: m.imei })),
    broker: { url: vm.brokerUrl, embedded: Boolean(vm.broker), tlsUrl: vm.broker?.tlsUrl ?? null, ca: vm.broker?.caPath ?? null },
    ports: {
      mqtt: vm.broker?.port ?? portOf(vm.brokerUrl.replace(/^\w+:/, 'http:')),
      mqttTls: vm.broker?.tlsPort ?? null,
      control: vm.control?.port ?? null,
      cloudHttp: portOf(http?.httpUrl),
      cloudHttps: portOf(http?.httpsUrl),
    },
    control: vm.control ? { url: vm.control.url, token: vm.control.token, ui: vm.control.uiUrl ?? null } : null,
    timing,
  };
}

/**
 * Write the file whole or not at all (a temp file renamed over it), readable by its owner only:
 * it holds the control token.
 */
export function writeReadyFile(file: string, info: ReadyInfo): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function removeReadyFile(file: string): void {
  rmSync(file, { force: true });
}
