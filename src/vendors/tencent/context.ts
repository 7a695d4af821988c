/**
 * What every Tencent IoT AT command file shares: the device, the profile's data for the set
 * (profiles/<id>.json → settings["tencent-qcloud"]), the flash, the MQTT client, the network
 * join, the OTA task, and the one-command-at-a-time rule.
 * Manual: 腾讯云 IoT MQTT AT 指令 V3.1.3 (shared/specs/tencent-qcloud-at.txt).
 */
import type { Logger } from 'pino';
import type { Line } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import type { TencentMqttClient } from './client.js';
import type { FirmwareTraits } from './firmware.js';
import type { TencentFlash } from './flash.js';
import type { TcFormat } from './format.js';
import type { TencentNetwork } from './network.js';
import type { TencentOta } from './ota.js';

export const TENCENT_SET_ID = 'tencent-qcloud';

export interface Range {
  min: number;
  max: number;
  default: number;
}

/** Profile data of the set. The manual's numbers where it gives them; the profile's notes say why otherwise. */
export interface TencentProfileData {
  /** §1.2.4: a space after the colon of `+TC…:` lines (the ESP8266 QCloud firmware prints none). */
  colonSpace: boolean;
  /** §2.1 <module_type> before any AT+TCREGNET: 0 cellular, 1 Wi-Fi. */
  moduleType: 0 | 1;
  /** The emulated network join (§2.1). */
  network: {
    /** Joined at power-on (a Wi-Fi module reconnects to its saved hotspot; a cellular one dials). */
    upAtBoot: boolean;
    wifiIp: string;
    cellularIp: string;
    /** The saved hotspot / APN used at power-on. */
    ssid: string;
    password: string;
    apn: string;
    /** Hotspots in range, with their passwords; absent = any SSID/password joins. */
    hotspots?: { ssid: string; password: string }[];
  };
  /** MQTT server name; `{productId}` is filled in. The link goes to the configured broker. */
  mqttHost: string;
  /** 1883 for tlsmode 0, 8883 for TLS. */
  ports: { plain: number; tls: number };
  /** The `sdkappid` field of the PSK user name (FACTS: 12010126 or 21010406). */
  sdkAppId: string;
  /** The `expiry` field of the PSK user name (unix seconds; the SDK's LONG_MAX without a clock). */
  usernameExpiry: number;
  limits: {
    /** §2.2/§2.6: product id ≤ 10, device name ≤ 48, product secret ≤ 32. */
    productId: number;
    deviceName: number;
    deviceSecret: number;
    productSecret: number;
    /** §2.1: SSID and password ≤ 48. */
    ssid: number;
    password: number;
    apn: number;
    /** §3.3/§3.5: topic ≤ 128; §3.3 message ≤ 1024; §3.4 long message ≤ 10240. */
    topic: number;
    payload: number;
    longPayload: number;
    /** Topics subscribed at once (QCLOUD_ERR_MQTT_MAX_SUBSCRIPTIONS, -107, beyond). */
    subscriptions: number;
    /** §2.3: <cert_size> 1–4096; how many files and how long a name. */
    certSize: number;
    certCount: number;
    certName: number;
    /** §4.1: <fw_ver> length. */
    version: number;
    /** §4.3: most bytes of one AT+TCREADFWDATA. */
    readFwData: number;
  };
  /** §3.1 <keepalive> 60–690 (default 240), <cmdtimeout> in ms (suggested 5000). */
  keepalive: Range;
  cmdTimeout: Range;
  /** AT+TCMQTTCONN? before any AT+TCMQTTCONN (§3.1: clean session default 1). */
  connDefaults: { tlsmode: 0 | 1 | 2; clean: 0 | 1; reconnect: 0 | 1 };
  /** Auto-reconnect waits: the first, doubling, giving up once past the maximum. */
  reconnect: { firstWaitMs: number; maxWaitMs: number };
  /** §4.2 <fw_max_size> (at least 128 KB). */
  fwMaxSize: number;
  /** OTA progress reports every this many percent. */
  otaProgressStep: number;
  /** §2.7: the registration server name the module signs, and the signature algorithm. */
  dynreg: { host: string; algorithm: 'hmacsha256' | 'hmacsha1' };
  /**
   * §2.8 AT+TCMODULE lines; `{imei}` and `{mac}` are filled in, and `{fwVersion}` and
   * `{fwCompiled}` with the build of `firmware` (`builds`).
   */
  moduleInfo: string[];
  /**
   * The firmware name and compile time each build reports (AT+TCMODULE, and the profile identity:
   * AT+CGMR revision and the ATI lines), by `firmware`; a build not listed keeps the identity.
   */
  builds?: Partial<Record<TencentFirmware, { version: string; compiled: string }>>;
  /** Wi-Fi MAC of AT+TCMODULE. */
  mac: string;
  /**
   * Which firmware's formats the module prints (firmware.ts): `v2` (QCloud_AT_ESP8266 v2.x, the
   * default), `v1` (QCloud_AT_ESP_WiFi v1.x) or `manual` (the V3.1.3 text, for other modules).
   */
  firmware?: TencentFirmware;
  /** The product region firmware v2 stores with the device and product information (`ap-guangzhou`). */
  region?: string;
  /**
   * The characters drivers escape with a backslash inside AT+TCMQTTPUB messages and
   * AT+TCMQTTPUBL data; the module publishes them unescaped (FACTS "Payload quoting"). ESP8266:
   * `"` and `,`; cellular builds: `"` only. A backslash escapes itself whenever the list is not empty.
   */
  payloadEscapes?: string[];
}

export type TencentFirmware = 'v1' | 'v2' | 'manual';

/**
 * §6.2 200 "Previous command is not complete": a command that answers `OK` now and its
 * `+TC…:` result later occupies the module until the result is out; another such command
 * meanwhile is refused.
 */
export class JobSlot {
  private running: string | undefined;
  private epoch = 0;

  constructor(
    private readonly report: (line: Line) => void,
    private readonly log: Logger,
  ) {}

  get busy(): string | undefined {
    return this.running;
  }

  /**
   * Run `work` after the command's `OK`; its result line is reported when it settles. False when
   * another command is still running.
   */
  start(name: string, work: () => Promise<Line>): boolean {
    if (this.running) return false;
    this.running = name;
    const epoch = this.epoch;
    void work()
      .catch((err: unknown) => {
        this.log.error({ err, command: name }, 'background command failed');
        return undefined;
      })
      .then((line) => {
        if (epoch !== this.epoch) return;
        this.running = undefined;
        if (line !== undefined) this.report(line);
      });
    return true;
  }

  /** Module restart: whatever runs is forgotten and reports nothing. */
  reset(): void {
    this.epoch++;
    this.running = undefined;
  }
}

export interface TencentContext {
  readonly device: Device;
  readonly data: TencentProfileData;
  readonly log: Logger;
  readonly fmt: TcFormat;
  readonly flash: TencentFlash;
  readonly client: TencentMqttClient;
  readonly net: TencentNetwork;
  readonly ota: TencentOta;
  readonly jobs: JobSlot;
  /** What the firmware build prints (profile `firmware`, firmware.ts). */
  readonly fw: FirmwareTraits;
  /** The characters a backslash escapes in publish payloads (profile `payloadEscapes`). */
  readonly escapes: string;
  /** A result or URC line, after the delay named (profile timing; shrunk with fast timing). */
  report(line: Line, delayName?: string): void;
}
