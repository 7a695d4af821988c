/**
 * What the module keeps in its flash (腾讯云 IoT MQTT AT 指令 V3.1.3): the device information of
 * AT+TCDEVINFOSET (§2.2 "设备信息数据会保存到 FLASH, 掉电不丢失") or of a successful AT+TCDEVREG
 * (§2.7 "设备密钥信息会保存至 FLASH"), the product information of AT+TCPRDINFOSET (§2.6), the
 * certificates and keys of AT+TCCERTADD (§2.3), and the OTA firmware the module cached for the MCU
 * (§4.2). AT+TCRESTORE (§2.9) clears all of it.
 *
 * Records live in the modem's FlashStore (a directory under the state dir, see
 * src/modem/module-flash.ts) when the modem has one, else in a store that lasts as long as the
 * process. The store is looked up at every access, so a flash attached after the command set was
 * built is used.
 */
import type { FlashStore } from '../../modem/module-flash.js';

export type TlsMode = 0 | 1 | 2;

/** AT+TCDEVINFOSET (§2.2). */
export interface DevInfo {
  tlsmode: TlsMode;
  productId: string;
  deviceName: string;
  /** The base64 PSK (tlsmode 0/1). */
  deviceSecret?: string;
  /** The certificate (tlsmode 2), a name of AT+TCCERTADD. */
  certName?: string;
  /** Firmware v2: the product region given with it (else the profile's). */
  region?: string;
}

/** AT+TCPRDINFOSET (§2.6). */
export interface PrdInfo {
  tlsmode: TlsMode;
  productId: string;
  productSecret: string;
  deviceName: string;
  /** Firmware v2: the product region given with it. */
  region?: string;
}

/** The cached OTA firmware (§4.2 AT+TCFWINFO). */
export interface FirmwareMeta {
  version: string;
  size: number;
  /** Lower-case hex. */
  md5: string;
}

const PREFIX = 'tencent-qcloud/';
const DEVINFO = `${PREFIX}devinfo.json`;
const PRDINFO = `${PREFIX}prdinfo.json`;
const CERTS = `${PREFIX}certs/`;
const FIRMWARE = `${PREFIX}ota/firmware.bin`;
const FIRMWARE_META = `${PREFIX}ota/firmware.json`;

export class TencentFlash {
  constructor(private readonly store: () => FlashStore) {}

  private json<T>(key: string): T | undefined {
    const raw = this.store().read(key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw.toString('utf8')) as T;
    } catch {
      // A damaged record reads as none, as a module's CRC check would have it.
      return undefined;
    }
  }

  devInfo(): DevInfo | undefined {
    return this.json<DevInfo>(DEVINFO);
  }

  setDevInfo(info: DevInfo): void {
    this.store().write(DEVINFO, JSON.stringify(info));
  }

  prdInfo(): PrdInfo | undefined {
    return this.json<PrdInfo>(PRDINFO);
  }

  setPrdInfo(info: PrdInfo): void {
    this.store().write(PRDINFO, JSON.stringify(info));
  }

  /** Names of the stored certificates and keys, sorted. */
  certNames(): string[] {
    return this.store()
      .list(CERTS)
      .map((k) => k.slice(CERTS.length));
  }

  cert(name: string): Buffer | undefined {
    return this.store().read(CERTS + name);
  }

  putCert(name: string, data: Buffer): void {
    this.store().write(CERTS + name, data);
  }

  removeCert(name: string): void {
    this.store().remove(CERTS + name);
  }

  firmwareMeta(): FirmwareMeta | undefined {
    return this.json<FirmwareMeta>(FIRMWARE_META);
  }

  firmware(): Buffer | undefined {
    return this.store().read(FIRMWARE);
  }

  /** Image first, then the record that makes it valid. */
  putFirmware(meta: FirmwareMeta, data: Buffer): void {
    this.store().write(FIRMWARE, data);
    this.store().write(FIRMWARE_META, JSON.stringify(meta));
  }

  clearFirmware(): void {
    this.store().remove(FIRMWARE_META);
    this.store().remove(FIRMWARE);
  }

  /** AT+TCRESTORE (§2.9): device, product, certificates and cached firmware. */
  restore(): void {
    const s = this.store();
    s.remove(DEVINFO);
    s.remove(PRDINFO);
    for (const name of this.certNames()) s.remove(CERTS + name);
    this.clearFirmware();
  }
}
