/**
 * A firmware push as the cloud platform sends it to a device that listens for updates.
 * Tencent IoT Hub (shared/FACTS.md "Tencent OTA messages"): the device subscribes to
 * `$ota/update/{productId}/{deviceName}` (AT+TCOTASET) and the cloud publishes there
 * `{"type":"update_firmware","version","url","md5sum","file_size"}`.
 */

export interface OtaOffer {
  version: string;
  url: string;
  md5: string;
  size: number;
}

/** The OTA topic a device subscribed to, among its subscriptions; undefined when none. */
export function otaTopicOf(subscriptions: readonly string[]): string | undefined {
  return subscriptions.find((t) => /^\$ota\/update\/[^/+#]+\/[^/+#]+$/.test(t));
}

export function otaPushMessage(offer: OtaOffer): Buffer {
  return Buffer.from(
    JSON.stringify({ type: 'update_firmware', version: offer.version, url: offer.url, md5sum: offer.md5, file_size: offer.size }),
    'utf8',
  );
}
