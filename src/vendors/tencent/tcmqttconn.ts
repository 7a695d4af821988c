/**
 * AT+TCMQTTCONN — 配置 MQTT 连接参数 (腾讯云 IoT MQTT AT 指令 V3.1.3 §3.1): set the connection
 * parameters and connect to the cloud with the device information of AT+TCDEVINFOSET.
 *   AT+TCMQTTCONN=?  → +TCMQTTCONN:<TLSMODE_SELECTED>,<CMDTIMEOUT_VALUE>,<KEEPALIVE>(max 690s),<CLEAN_SESSION>(0/1),<RECONNECT>(0/1)
 *   AT+TCMQTTCONN?   → +TCMQTTCONN:<tlsmode>,<cmdtimeout>,<keepalive>,<clean_session>,<reconnect>  OK
 *                      (before any: keepalive 240, clean session 1)
 *   AT+TCMQTTCONN=<tlsmode>,<cmdtimeout>,<keepalive>,<clean_session>,<reconnect>
 *                    → OK, then +TCMQTTCONN:OK | +TCMQTTCONN:FAIL,<err_code>
 * <tlsmode> must agree with AT+TCDEVINFOSET's: 0 → 0, 2 → 2, 1 → 0 or 1. <keepalive> 60–690 s.
 * Already connected → error (AT+TCMQTTDISCONN first); during OTA → error.
 *
 * Sign-in (FACTS.md): clientId = productId + deviceName; key modes send the PSK user name and
 * password (sign.ts); tlsmode 2 presents the stored certificate and its key over TLS. The server
 * is `{productId}.iotcloud.tencentdevices.com`, 1883 or 8883 over TLS — the link goes to the
 * configured broker (the virtual cloud). Failures (§6.1): CONNACK 1–5 → -113…-117, TCP -602/-603,
 * TLS -703, no CONNACK within <cmdtimeout> -111.
 *
 * Where the manual is silent (the manual writes "+CME ERR", a slip for +CME ERROR):
 * - <cmdtimeout> is bounded by the SDK's limits (profile `cmdTimeout`, 500–20000 ms).
 * - Refusals: already connected/connecting/reconnecting, OTA running, no device information, or
 *   no network (AT+TCREGNET) → 208; a <tlsmode> that disagrees → 204. A Wi-Fi module (ESP8266)
 *   without its access point answers OK, then +TCMQTTCONN:FAIL,<err> as its firmware does. The
 *   station has no address, so the first thing to fail is the host lookup of
 *   {productId}.iotcloud.tencentdevices.com: over TCP (tlsmode 0) Tencent's C SDK maps a failed
 *   getaddrinfo / MBEDTLS_ERR_NET_UNKNOWN_HOST to QCLOUD_ERR_TCP_UNKNOWN_HOST, -602 (HAL_TCP_Connect,
 *   _mbedtls_tcp_connect in HAL_TLS_mbedtls.c); over TLS (tlsmode 1/2) HAL_TLS_Connect returns a null
 *   handle on any failure, the lookup's included, and network_tls_connect reports
 *   QCLOUD_ERR_SSL_CONNECT, -703 (SDK 3.x network_interface.c; Tencent's older SDK returned
 *   QCLOUD_ERR_FAILURE -1001 there — not the generation of the v2.x ESP8266 firmware).
 * - tlsmode 2 with a certificate or key that is gone or does not parse: FAIL,-702 (SSL cert).
 */
import { ok, type CommandDef } from '../../at/types.js';
import { okThen, refuseBusy, tcArgs, TLSMODE_PARAM } from './args.js';
import type { TencentContext } from './context.js';
import { badParam, stateError } from './errors.js';

export function tcmqttconnCommand(q: TencentContext): CommandDef {
  const d = q.data;
  return {
    name: '+TCMQTTCONN',
    test: () =>
      ok(q.fmt.line('TCMQTTCONN', `<TLSMODE_SELECTED>,<CMDTIMEOUT_VALUE>,<KEEPALIVE>(max ${d.keepalive.max}s),<CLEAN_SESSION>(0/1),<RECONNECT>(0/1)`)),
    read: () => {
      const p = q.client.params;
      return ok(q.fmt.line('TCMQTTCONN', `${p.tlsmode},${p.cmdTimeoutMs},${p.keepalive},${p.clean ? 1 : 0},${p.reconnect ? 1 : 0}`));
    },
    set: (ctx) =>
      tcArgs(
        ctx,
        [
          TLSMODE_PARAM,
          { name: 'cmdtimeout', type: 'int', min: d.cmdTimeout.min, max: d.cmdTimeout.max },
          { name: 'keepalive', type: 'int', min: d.keepalive.min, max: d.keepalive.max },
          { name: 'clean_session', type: 'int', values: [0, 1] },
          { name: 'reconnect', type: 'int', values: [0, 1] },
        ],
        ([tlsmode, timeout, keepalive, clean, reconnect]) => {
          const refused = refuseBusy(q);
          if (refused) return refused;
          if (q.client.active) return stateError(`MQTT is already ${q.client.state}`);
          if (q.ota.downloading) return stateError('an OTA download is running');
          const info = q.flash.devInfo();
          if (!info) return stateError('no device information (AT+TCDEVINFOSET)');
          const allowed = info.tlsmode === 1 ? [0, 1] : [info.tlsmode];
          if (!allowed.includes(tlsmode)) return badParam(`<tlsmode> ${tlsmode} does not fit AT+TCDEVINFOSET's ${info.tlsmode}`);
          // The ESP8266 firmware does not look at Wi-Fi first: OK, then the TLS/TCP connect fails
          // (+TCMQTTCONN:FAIL,<err>; QCloud AT at_mqtt_conn_setup → IOT_MQTT_Construct).
          const onlyWifiDown = q.device.wifi !== undefined && q.net.joined && q.device.network.dataReady;
          if (!q.net.ready && !onlyWifiDown) return stateError('no network (AT+TCREGNET)');
          const params = {
            tlsmode,
            cmdTimeoutMs: timeout,
            keepalive,
            clean: clean === 1,
            reconnect: reconnect === 1,
          };
          return okThen(q, 'TCMQTTCONN', () => q.client.connect(params));
        },
      ),
  };
}
