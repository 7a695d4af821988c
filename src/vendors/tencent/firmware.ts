/**
 * What differs between builds of the Tencent IoT AT firmware (profile setting
 * `settings["tencent-qcloud"].firmware`), so that firmware written against either ESP8266 build
 * sees its own format.
 *
 * The evidence is Tencent's published serial test reports of real ESP8266 modules, made with their
 * module test tool (TencentCloud/tc-iot-sdk-embedded-for-esp8266,
 * qcloud-iot-at-esp8266/QCloud_IoT_AT_Test_Tool/Test-report-sample-WiFi.md):
 * - the v1 report (2020-01-15, QCloud_AT_ESP_WiFi_v1.2.0) and the v2 report (2020-08-21,
 *   QCloud_AT_ESP8266_v2.1.0) both show `AT+TCMQTTDISCONN` answering `+TCMQTTDISCON,2` then `OK`
 *   (2 = QCLOUD_RET_MQTT_MANUALLY_DISCONNECTED of Tencent's C SDK: the firmware's MQTT task prints
 *   `+TCMQTTDISCON,<rc>` when the user stops it), and `AT+TCOTASET=?` answering
 *   `+TCOTASET:1(ENABLE)/0(DISABLE),"FW_version"`, and `AT+TCPRDINFOSET=?` naming
 *   `"TLS_MODE(1)"` (the ESP8266 builds have no certificate commands).
 * - v2 adds the product region: `AT+TCDEVINFOSET?` ends with `,"ap-guangzhou"` and
 *   `AT+TCPRDINFOSET=?` lists `"PRODUCT_REGION"` last.
 * `manual` keeps the text of 腾讯云 IoT MQTT AT 指令 V3.1.3 (§2.2, §2.6, §3.2, §4.1), for modules
 * that implement the manual rather than the ESP8266 builds.
 */
import type { TencentFirmware, TencentProfileData } from './context.js';

export interface FirmwareTraits {
  firmware: TencentFirmware;
  /** v2: the region printed at the end of AT+TCDEVINFOSET? (and stored from a set form's last argument). */
  region: string | undefined;
  /** AT+TCMQTTDISCONN prints `+TCMQTTDISCON,2` before its OK. */
  disconnectReport: boolean;
  /** The rest of `+TCOTASET:` in the test form. */
  otasetTest: string;
  /** The rest of `+TCPRDINFOSET:` in the test form. */
  prdinfosetTest: string;
}

/** QCLOUD_RET_MQTT_MANUALLY_DISCONNECTED (Tencent C SDK qcloud_iot_export_error.h). */
export const MANUALLY_DISCONNECTED = 2;

export const DEFAULT_REGION = 'ap-guangzhou';

export function firmwareTraits(data: TencentProfileData): FirmwareTraits {
  const firmware = data.firmware ?? 'v2';
  const manual = firmware === 'manual';
  return {
    firmware,
    region: firmware === 'v2' ? (data.region ?? DEFAULT_REGION) : undefined,
    disconnectReport: !manual,
    otasetTest: manual ? '"ENABLE/DISABLE","FW_version"' : '1(ENABLE)/0(DISABLE),"FW_version"',
    prdinfosetTest: manual
      ? '"TLS_MODE(0/1/2)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME"'
      : `"TLS_MODE(1)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME"${firmware === 'v2' ? ',"PRODUCT_REGION"' : ''}`,
  };
}

/** The characters a backslash escapes in publish payloads (profile `payloadEscapes`; ESP8266 default `"` and `,`). */
export function payloadEscapes(data: TencentProfileData): string {
  const chars = data.payloadEscapes ?? ['"', ','];
  return chars.length > 0 ? [...new Set([...chars, '\\'])].join('') : '';
}

/** Region names are short (`ap-guangzhou`, `ap-shanghai`, `na-ashburn`). */
export const REGION_MAX = 32;
