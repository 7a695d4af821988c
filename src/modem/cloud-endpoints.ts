/**
 * Where a module's non-MQTT cloud traffic really goes. Modules that talk HTTP(S) to their cloud
 * (Tencent's dynamic registration, OTA firmware downloads) keep their production host names in
 * what they sign and report; the connection itself goes to the virtual cloud's HTTP side, the way
 * MQTT links go to the configured broker whatever host the firmware names.
 */
export interface CloudEndpoints {
  /** `http://host:port` of the virtual cloud's plain HTTP side, when it has one. */
  httpUrl?: string;
  /** `https://host:port` of its HTTPS side, when it has one. */
  httpsUrl?: string;
  /** PEM of the CA that signs the HTTPS (and MQTT TLS) server certificate, to trust it. */
  ca?: string;
}
