/**
 * OTA for the MCU through the module (腾讯云 IoT MQTT AT 指令 V3.1.3 §4, URC §5.5): with
 * AT+TCOTASET=1,<fw_ver> the module subscribes to `$ota/update/{pid}/{dn}` and reports its version
 * on `$ota/report/{pid}/{dn}`; when the cloud pushes `update_firmware`, it downloads the image over
 * HTTP(S), checks size and MD5, reports its progress to the cloud, keeps the image in its flash
 * and tells the MCU (+TCOTASTATUS: ENTERUPDATE, then UPDATESUCCESS or UPDATEFAIL). The MCU reads
 * it back with AT+TCFWINFO? and AT+TCREADFWDATA.
 *
 * Messages (FACTS.md "Tencent OTA messages", in the C SDK's spelling: progress fields as strings):
 *   → {"type":"report_version","report":{"version":"1.0.0"}}
 *   ← {"type":"update_firmware","version":…,"url":…,"md5sum":…,"file_size":…}
 *   → {"type":"report_progress","report":{"progress":{"state":"downloading","percent":"10",
 *      "result_code":"0","result_msg":""},"version":…}}  … "burning", "done" | "fail"
 * Failure result codes are the platform's: -1 download failed/timed out, -2 file does not exist,
 * -4 MD5 mismatch, -5 firmware update failed (wrong size, larger than the module can keep).
 *
 * Where the manual is silent:
 * - A new download erases the cached image first (the module has one OTA area), so after
 *   UPDATEFAIL AT+TCFWINFO? answers 205 (No valid firmware).
 * - A push while a download runs is ignored; so are messages that are not JSON.
 * - The image in flash survives a restart; AT+TCRESTORE erases it.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Line } from '../../at/types.js';
import type { Device } from '../../modem/device.js';
import type { IncomingMessage } from '../../mqtt/types.js';
import type { ResultCode, TencentMqttClient } from './client.js';
import type { TencentProfileData } from './context.js';
import { SDK } from './errors.js';
import type { FirmwareMeta, TencentFlash } from './flash.js';
import { cloudUrl, HttpFailure, httpRequest } from './http.js';

/** How long a download may see no data before it fails (-1). */
const DOWNLOAD_IDLE_MS = 30_000;

const RESULT = { downloadFailed: -1, notFound: -2, md5: -4, updateFailed: -5 } as const;

interface UpdatePush {
  version: string;
  url: string;
  md5sum: string;
  file_size: number;
}

export type FirmwareRead = { ok: true; data: Buffer } | { ok: false; why: 'no-firmware' | 'end' };

export class TencentOta {
  /** AT+TCOTASET <ctlstate> and <fw_ver>. */
  enabled = false;
  version = '';
  /** A download runs ("OTA 状态中": the commands that need a quiet module refuse). */
  downloading = false;
  /** §4.3: where the next AT+TCREADFWDATA reads; AT+TCFWINFO? sets it back to 0. */
  private offset = 0;
  private cached: { meta: FirmwareMeta; data: Buffer } | undefined;
  private epoch = 0;
  private readonly log: Logger;

  constructor(
    private readonly device: Device,
    private readonly data: TencentProfileData,
    private readonly flash: TencentFlash,
    private readonly client: TencentMqttClient,
    private readonly report: (line: Line, delayName?: string) => void,
    private readonly status: (state: string) => string,
  ) {
    this.log = device.log.child({ component: 'tencent-ota' });
  }

  /**
   * Listening for pushes now: enabled, and the subscription is there (a new AT+TCMQTTCONN after
   * AT+TCMQTTDISCONN starts without it; the MCU enables OTA again, as after power-on).
   */
  get listening(): boolean {
    const t = this.topics();
    return this.enabled && t !== undefined && this.client.ownsTopic(t.update);
  }

  private topics(): { update: string; report: string } | undefined {
    const info = this.flash.devInfo();
    if (!info) return undefined;
    return { update: `$ota/update/${info.productId}/${info.deviceName}`, report: `$ota/report/${info.productId}/${info.deviceName}` };
  }

  /** AT+TCOTASET=1,<fw_ver> after its OK: subscribe, report the version (QoS 1 both). */
  async enable(version: string): Promise<ResultCode> {
    const t = this.topics();
    if (!t) return SDK.mqttNoConn;
    let rc = await this.client.subscribe(t.update, 1, true);
    if (rc !== 0) return rc;
    rc = await this.client.publish(t.report, Buffer.from(JSON.stringify({ type: 'report_version', report: { version } })), 1);
    if (rc !== 0) return rc;
    this.enabled = true;
    this.version = version;
    this.log.info({ version }, 'OTA enabled; version reported');
    return 0;
  }

  /** AT+TCOTASET=0,<fw_ver>: stop listening for pushes. */
  async disable(version: string): Promise<ResultCode> {
    const t = this.topics();
    if (t && this.client.ownsTopic(t.update)) {
      const rc = await this.client.unsubscribe(t.update, true);
      if (rc !== 0) return rc;
    }
    this.enabled = false;
    this.version = version;
    return 0;
  }

  /** A message on the module's own OTA topic. */
  handle(m: IncomingMessage): boolean {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(m.payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      this.log.info({ topic: m.topic }, 'OTA message is not JSON; ignored');
      return true;
    }
    if (msg?.type === 'report_version_rsp') {
      this.log.debug({ result: msg.result_code, version: msg.version }, 'cloud answered the version report');
      return true;
    }
    if (msg?.type !== 'update_firmware') {
      this.log.debug({ type: msg?.type }, 'OTA message ignored');
      return true;
    }
    const push = validPush(msg);
    if (!push) {
      this.log.info('update_firmware without version, url, md5sum and file_size; ignored');
      return true;
    }
    if (this.downloading) {
      this.log.info({ version: push.version }, 'a download is running; push ignored');
      return true;
    }
    void this.download(push).catch((err: unknown) => {
      this.log.error({ err }, 'firmware download failed unexpectedly');
      if (!this.downloading) return;
      this.downloading = false;
      this.report(this.status('UPDATEFAIL'));
    });
    return true;
  }

  private publishProgress(version: string, progress: Record<string, string>): void {
    const t = this.topics();
    if (!t || !this.client.connected) return;
    const body = JSON.stringify({ type: 'report_progress', report: { progress, version } });
    void this.client.publish(t.report, Buffer.from(body), 0);
  }

  private async download(push: UpdatePush): Promise<void> {
    const epoch = this.epoch;
    this.downloading = true;
    this.flash.clearFirmware();
    this.cached = undefined;
    this.offset = 0;
    this.report(this.status('ENTERUPDATE'));
    this.log.info({ version: push.version, size: push.file_size }, 'firmware download starts');
    const fail = (code: number, msg: string): void => {
      if (epoch !== this.epoch) return;
      this.log.info({ version: push.version, code, why: msg }, 'firmware update failed');
      this.publishProgress(push.version, { state: 'fail', result_code: String(code), result_msg: msg });
      this.downloading = false;
      this.report(this.status('UPDATEFAIL'));
    };
    if (push.file_size > this.data.fwMaxSize) return fail(RESULT.updateFailed, `firmware of ${push.file_size} bytes exceeds ${this.data.fwMaxSize}`);
    const url = cloudUrl(push.url, this.device.cloud);
    if (!url) return fail(RESULT.notFound, 'bad url');
    const step = Math.max(1, this.data.otaProgressStep);
    let reported = 0;
    this.publishProgress(push.version, { state: 'downloading', percent: '0', result_code: '0', result_msg: '' });
    let body: Buffer;
    try {
      const reply = await httpRequest(url, {
        timeoutMs: DOWNLOAD_IDLE_MS,
        maxBytes: this.data.fwMaxSize,
        ...(this.device.cloud?.ca ? { ca: this.device.cloud.ca } : {}),
        onProgress: (received) => {
          const percent = Math.min(100, Math.floor((received * 100) / push.file_size));
          if (percent >= reported + step && percent < 100) {
            reported = percent - (percent % step);
            this.publishProgress(push.version, { state: 'downloading', percent: String(reported), result_code: '0', result_msg: '' });
          }
        },
      });
      if (epoch !== this.epoch) return;
      if (reply.status === 404) return fail(RESULT.notFound, 'file does not exist');
      if (reply.status < 200 || reply.status > 299) return fail(RESULT.downloadFailed, `HTTP ${reply.status}`);
      body = reply.body;
    } catch (err) {
      if (epoch !== this.epoch) return;
      const code = err instanceof HttpFailure && err.code === SDK.httpNotFound ? RESULT.notFound : RESULT.downloadFailed;
      return fail(code, `download failed: ${(err as Error).message}`);
    }
    this.publishProgress(push.version, { state: 'downloading', percent: '100', result_code: '0', result_msg: '' });
    if (body.length !== push.file_size) return fail(RESULT.updateFailed, `got ${body.length} bytes, file_size says ${push.file_size}`);
    const md5 = createHash('md5').update(body).digest('hex');
    if (md5 !== push.md5sum.toLowerCase()) return fail(RESULT.md5, 'md5 mismatch');
    this.publishProgress(push.version, { state: 'burning', result_code: '0', result_msg: '' });
    const meta: FirmwareMeta = { version: push.version, size: body.length, md5 };
    try {
      this.flash.putFirmware(meta, body);
    } catch (err) {
      return fail(RESULT.updateFailed, `flash write failed: ${(err as Error).message}`);
    }
    this.cached = { meta, data: body };
    this.downloading = false;
    this.publishProgress(push.version, { state: 'done', result_code: '0', result_msg: 'success' });
    this.log.info({ version: push.version, size: body.length }, 'firmware cached for the MCU');
    this.report(this.status('UPDATESUCCESS'));
  }

  private image(): { meta: FirmwareMeta; data: Buffer } | undefined {
    if (this.cached) return this.cached;
    const meta = this.flash.firmwareMeta();
    const data = meta && this.flash.firmware();
    if (!meta || !data || data.length !== meta.size) return undefined;
    this.cached = { meta, data };
    return this.cached;
  }

  /** AT+TCFWINFO? (§4.2): the cached image's information; the read offset starts again at 0. */
  info(): FirmwareMeta | undefined {
    this.offset = 0;
    return this.image()?.meta;
  }

  /**
   * AT+TCREADFWDATA=<len> (§4.3): the next <len> bytes. A read shorter than asked is the last one;
   * reading on from the end is an error until AT+TCFWINFO? sets the offset back.
   */
  read(len: number): FirmwareRead {
    const img = this.image();
    if (!img) return { ok: false, why: 'no-firmware' };
    if (this.offset >= img.data.length) return { ok: false, why: 'end' };
    const chunk = img.data.subarray(this.offset, this.offset + len);
    this.offset += chunk.length;
    return { ok: true, data: chunk };
  }

  /** AT+TCRESTORE: the cached image is gone. */
  forget(): void {
    this.cached = undefined;
    this.offset = 0;
  }

  /** Restart: RAM state back to power-on (the image stays in flash). */
  reset(): void {
    this.epoch++;
    this.enabled = false;
    this.version = '';
    this.downloading = false;
    this.offset = 0;
    this.cached = undefined;
  }
}

function validPush(msg: Record<string, unknown>): UpdatePush | undefined {
  const { version, url, md5sum } = msg;
  const size = typeof msg.file_size === 'string' ? Number(msg.file_size) : msg.file_size;
  if (typeof version !== 'string' || typeof url !== 'string' || typeof md5sum !== 'string') return undefined;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) return undefined;
  return { version, url, md5sum, file_size: size };
}
