/**
 * What Tencent's IoT Hub and IoT Explorer answer on their platform topics, so that firmware
 * written for the real cloud sees its cloud in a demo or a CI run (issue 10 §4):
 *
 * - **Time** (IoT Hub/Explorer system topic): the device publishes
 *   `{"type":"get","resource":["time"]}` on `$sys/operation/{pid}/{dn}`; the platform answers on
 *   `$sys/operation/result/{pid}/{dn}` with `{"type":"get","time":<unix seconds>}` — byte for byte
 *   what Tencent's serial test reports of real ESP8266 modules receive
 *   (`+TCMQTTRCVPUB:"$sys/operation/result/S3EUVBRJLB/test_device",32,"{"type":"get","time":1598000978}"`,
 *   TencentCloud/tc-iot-sdk-embedded-for-esp8266 QCloud_IoT_AT_Test_Tool/Test-report-sample-WiFi.md).
 * - **Data template** (IoT Explorer, 数据模板协议; messages as the qcloud-iot-explorer-sdk-embedded-c
 *   samples log them against the real platform, e.g. light_data_template_sample):
 *   `$thing/up/property/{pid}/{dn}`: `report` → `report_reply`, `report_info` → `report_info_reply`
 *   (`{"method":"report_reply","clientToken":…,"code":0,"status":"success"}`), `get_status` →
 *   `get_status_reply` with `"data":{"reported":{…}}` (every property reported so far; `"type"`
 *   echoed when the request has one, `"type":"control"` gets `"data":{}`), `control_reply` from
 *   the device is delivered to whoever sent the `control` (control API). Replies go to
 *   `$thing/down/property/{pid}/{dn}`.
 *   `$thing/up/event/{pid}/{dn}`: `event_post` → `event_reply` (`{"method":"event_reply",
 *   "clientToken":…,"code":0,"status":"","data":{}}`), `events_post` → `events_reply`, on
 *   `$thing/down/event/…`. `$thing/up/action/{pid}/{dn}`: the device's `action_reply` to an
 *   `action` sent on `$thing/down/action/…`.
 * - **Older data template / shadow** (`$template/operation/{pid}/{dn}` →
 *   `$template/operation/result/{pid}/{dn}`, used by IoT Explorer SDKs before `$thing`, whose
 *   logs show `{"type":"get","clientToken":…}` → `{"clientToken":…,"payload":{"state":{"reported":
 *   {…}},"timestamp":<ms>,"version":n},"result":0,"timestamp":<s>,"type":"get"}` and
 *   `{"type":"update","version":n,"state":{"reported":{…}},"clientToken":…}` → the same shape with
 *   `"type":"update"` and the version one up). `"desired": null` clears desired state.
 *
 * - **OTA version report** (IoT Hub/Explorer firmware upgrade): the device publishes
 *   `{"type":"report_version","report":{"version":"1.0.0"}}` on `$ota/report/{pid}/{dn}` (what
 *   AT+TCOTASET=1 sends); the platform answers on `$ota/update/{pid}/{dn}` with
 *   `{"type":"report_version_rsp","version":"1.0.0","result_code":0,"result_msg":"success"}`
 *   (shared/FACTS.md "Tencent OTA messages"; the C SDK's OTA client waits for it). A report
 *   without a version string is answered with result_code 1 and no version is recorded.
 *
 * Where the documents are silent: malformed JSON and unknown methods get no answer (logged);
 * replies are QoS 0; the device state is kept in memory per `{pid}/{dn}` for the life of the cloud.
 */
import { EventEmitter } from 'node:events';
import type { BrokerPublish, EmbeddedBroker } from '../broker/embedded-broker.js';
import type { Logger } from '../util/logger.js';

/** A message the device sent on a data-template topic (for the control API and tests). */
export interface TemplateMessage {
  productId: string;
  deviceName: string;
  topic: string;
  /** `property`, `event` or `action` (the `$thing/up/<kind>` level). */
  kind: string;
  message: Record<string, unknown>;
}

interface DeviceState {
  reported: Record<string, unknown>;
  desired: Record<string, unknown> | null;
  /** Shadow version of `$template/operation`. */
  version: number;
  timestampMs: number;
}

const UP = /^\$thing\/up\/(property|event|action)\/([^/]+)\/([^/]+)$/;
const SYS = /^\$sys\/operation\/([^/]+)\/([^/]+)$/;
const TEMPLATE = /^\$template\/operation\/([^/]+)\/([^/]+)$/;
const OTA_REPORT = /^\$ota\/report\/([^/]+)\/([^/]+)$/;

export class TencentServices extends EventEmitter<{ up: [TemplateMessage] }> {
  private readonly devices = new Map<string, DeviceState>();
  /** Firmware versions reported on `$ota/report`, by `{pid}/{dn}`. */
  private readonly versions = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly broker: EmbeddedBroker,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Start answering; returns the function that stops it. */
  attach(): () => void {
    return this.broker.onPublish((p) => {
      try {
        this.handle(p);
      } catch (err) {
        // Nothing a device publishes may take the cloud down.
        this.log.warn({ err, topic: p.topic }, 'tencent platform topic handler failed');
      }
    });
  }

  /** The properties a device reported so far (get_status / `$template` get). */
  reported(productId: string, deviceName: string): Record<string, unknown> {
    return { ...(this.devices.get(`${productId}/${deviceName}`)?.reported ?? {}) };
  }

  /**
   * Send a data-template `control` (`$thing/down/property`) or `action` (`$thing/down/action`) to
   * a device, as the console or an application does; resolves with the client token used. The
   * device's `control_reply` / `action_reply` arrives as an `up` event with that token.
   */
  async send(o: { productId: string; deviceName: string; method: 'control' | 'action'; params: Record<string, unknown>; actionId?: string }): Promise<{ topic: string; clientToken: string; message: Record<string, unknown> }> {
    const clientToken = `vmodem-${o.method}-${++this.seq}`;
    const kind = o.method === 'control' ? 'property' : 'action';
    const topic = `$thing/down/${kind}/${o.productId}/${o.deviceName}`;
    const message: Record<string, unknown> =
      o.method === 'control'
        ? { method: 'control', clientToken, params: o.params }
        : { method: 'action', clientToken, actionId: o.actionId ?? '', timestamp: Math.floor(this.now() / 1000), params: o.params };
    await this.publish(topic, message);
    return { topic, clientToken, message };
  }

  /** Wait for the device's reply carrying `clientToken` (control_reply, action_reply). */
  waitForReply(clientToken: string, timeoutMs: number): Promise<TemplateMessage | undefined> {
    return new Promise((resolve) => {
      const onUp = (m: TemplateMessage): void => {
        if (m.message.clientToken !== clientToken) return;
        this.off('up', onUp);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.off('up', onUp);
        resolve(undefined);
      }, timeoutMs);
      this.on('up', onUp);
    });
  }

  private state(productId: string, deviceName: string): DeviceState {
    const key = `${productId}/${deviceName}`;
    let s = this.devices.get(key);
    if (!s) {
      s = { reported: {}, desired: null, version: 0, timestampMs: this.now() };
      this.devices.set(key, s);
    }
    return s;
  }

  private handle(p: BrokerPublish): void {
    let m = SYS.exec(p.topic);
    if (m) return this.onSys(m[1]!, m[2]!, p.payload);
    m = UP.exec(p.topic);
    if (m) return this.onThing(m[1]!, m[2]!, m[3]!, p);
    m = TEMPLATE.exec(p.topic);
    if (m) return this.onTemplate(m[1]!, m[2]!, p.payload);
    m = OTA_REPORT.exec(p.topic);
    if (m) return this.onOtaReport(m[1]!, m[2]!, p.payload);
  }

  /** The firmware version a device reported last (`$ota/report` report_version), if any. */
  reportedVersion(productId: string, deviceName: string): string | undefined {
    return this.versions.get(`${productId}/${deviceName}`);
  }

  private onOtaReport(pid: string, dn: string, payload: Buffer): void {
    const msg = this.json(payload, `$ota/report/${pid}/${dn}`);
    // report_progress and the rest are the device's news, not requests: no answer.
    if (!msg || msg.type !== 'report_version') return;
    const report = msg.report as { version?: unknown } | undefined;
    const version = typeof report?.version === 'string' ? report.version : undefined;
    if (version !== undefined) this.versions.set(`${pid}/${dn}`, version);
    this.reply(
      `$ota/update/${pid}/${dn}`,
      version !== undefined ? { type: 'report_version_rsp', version, result_code: 0, result_msg: 'success' } : { type: 'report_version_rsp', result_code: 1, result_msg: 'version missing' },
    );
  }

  private json(payload: Buffer, topic: string): Record<string, unknown> | undefined {
    try {
      const v: unknown = JSON.parse(payload.toString('utf8'));
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // fall through
    }
    this.log.info({ topic }, 'platform topic: not a JSON object; no answer');
    return undefined;
  }

  private publish(topic: string, message: Record<string, unknown>): Promise<void> {
    const payload = Buffer.from(JSON.stringify(message), 'utf8');
    return new Promise((resolve) => {
      this.broker.aedes.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false, messageId: 0 } as never, (err?: Error) => {
        if (err) this.log.warn({ err, topic }, 'platform reply not published');
        resolve();
      });
    });
  }

  private reply(topic: string, message: Record<string, unknown>): void {
    this.log.debug({ topic, method: message.method ?? message.type }, 'platform reply');
    void this.publish(topic, message);
  }

  /** `$sys/operation`: the time request of the test reports. */
  private onSys(pid: string, dn: string, payload: Buffer): void {
    const msg = this.json(payload, `$sys/operation/${pid}/${dn}`);
    if (!msg) return;
    const resource = Array.isArray(msg.resource) ? msg.resource : [];
    if (msg.type !== 'get' || !resource.includes('time')) {
      this.log.info({ productId: pid, deviceName: dn, type: msg.type, resource }, '$sys/operation request not answered (only the time is)');
      return;
    }
    this.reply(`$sys/operation/result/${pid}/${dn}`, { type: 'get', time: Math.floor(this.now() / 1000) });
  }

  private onThing(kind: string, pid: string, dn: string, p: BrokerPublish): void {
    const msg = this.json(p.payload, p.topic);
    if (!msg) return;
    this.emit('up', { productId: pid, deviceName: dn, topic: p.topic, kind, message: msg });
    const clientToken = msg.clientToken;
    const down = `$thing/down/${kind}/${pid}/${dn}`;
    const method = msg.method;
    if (kind === 'property') {
      if (method === 'report' || method === 'report_info') {
        if (method === 'report' && isRecord(msg.params)) Object.assign(this.state(pid, dn).reported, msg.params);
        this.reply(down, { method: `${method}_reply`, clientToken, code: 0, status: 'success' });
      } else if (method === 'get_status') {
        const type = typeof msg.type === 'string' ? msg.type : undefined;
        const data = type === 'control' ? {} : { reported: this.reported(pid, dn) };
        this.reply(down, { method: 'get_status_reply', clientToken, code: 0, status: 'success', ...(type ? { type } : {}), data });
      } else if (method !== 'control_reply') {
        this.log.info({ productId: pid, deviceName: dn, method }, 'data-template property method not answered');
      }
    } else if (kind === 'event') {
      if (method === 'event_post' || method === 'events_post') {
        this.reply(down, { method: method === 'event_post' ? 'event_reply' : 'events_reply', clientToken, code: 0, status: '', data: {} });
      } else {
        this.log.info({ productId: pid, deviceName: dn, method }, 'data-template event method not answered');
      }
    }
    // `$thing/up/action`: the device's action_reply, delivered through the `up` event.
  }

  /** `$template/operation`: the shadow-style data template of the older SDKs. */
  private onTemplate(pid: string, dn: string, payload: Buffer): void {
    const msg = this.json(payload, `$template/operation/${pid}/${dn}`);
    if (!msg) return;
    const s = this.state(pid, dn);
    const type = msg.type;
    if (type === 'update') {
      const state = isRecord(msg.state) ? msg.state : {};
      if (isRecord(state.reported)) Object.assign(s.reported, state.reported);
      if ('desired' in state) s.desired = isRecord(state.desired) ? { ...(s.desired ?? {}), ...state.desired } : null;
      s.version++;
      s.timestampMs = this.now();
    } else if (type !== 'get') {
      this.log.info({ productId: pid, deviceName: dn, type }, '$template/operation type not answered');
      return;
    }
    const nowMs = this.now();
    this.reply(`$template/operation/result/${pid}/${dn}`, {
      clientToken: msg.clientToken,
      payload: {
        state: { reported: { ...s.reported }, ...(s.desired ? { desired: { ...s.desired } } : {}) },
        timestamp: s.timestampMs,
        version: s.version,
      },
      result: 0,
      timestamp: type === 'get' ? Math.floor(nowMs / 1000) : nowMs,
      type,
    });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
