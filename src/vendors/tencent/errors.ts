/**
 * Error codes of the Tencent IoT AT set (腾讯云 IoT MQTT AT 指令 V3.1.3, §6).
 *
 * - §6.2 "CME ERROR 列表扩展": 200–209, the `+CME ERROR: <err>` a command answers at once.
 * - §6.1 "服务端相关 err code" / "执行错误码": the SDK's QCLOUD_ERR_* values, which the module
 *   reports in `+TC…: FAIL,<err_code>` results and in `+TCMQTTDISCON,<err>`.
 * - §6.3 "设备动态注册错误码": 1000–1031, `+TCDEVREG: FAIL,<err_code>`.
 */
import { error, type Outcome } from '../../at/types.js';
import type { CloseReason, ConnectOutcome, OpenFailure } from '../../mqtt/types.js';
import { TENCENT_DYNREG_ERRORS } from '../../platform/tencent.js';

/** §6.2. */
export const CME = {
  /** Previous command is not complete */
  notComplete: 200,
  /** msg packet over size */
  overSize: 201,
  /** command timeout */
  timeout: 202,
  /** check failed */
  checkFailed: 203,
  /** Parameter invalid */
  invalidParam: 204,
  /** No valid firmware */
  noFirmware: 205,
  /** Memory allocation error */
  memory: 206,
  /** Flash access error */
  flash: 207,
  /** State error or not ready. E.g: pub msg when MQTT not connected */
  state: 208,
  /** Command execution error */
  execution: 209,
} as const;

/** §6.1 "执行错误码" (QCLOUD_ERR_*), the ones this module reports. */
export const SDK = {
  httpClosed: -3,
  http: -4,
  httpProtocol: -5,
  httpDns: -6,
  httpUrl: -7,
  httpConnect: -8,
  httpAuth: -9,
  httpNotFound: -10,
  httpTimeout: -11,
  mqttNoConn: -103,
  mqttUnknown: -104,
  mqttReconnecting: -105,
  mqttReconnectTimeout: -106,
  mqttMaxSubscriptions: -107,
  mqttSub: -108,
  mqttRequestTimeout: -111,
  connackUnknown: -112,
  connackProtocol: -113,
  connackIdentifier: -114,
  connackUnavailable: -115,
  connackBadUserdata: -116,
  connackNotAuthorized: -117,
  jsonParse: -132,
  maxTopicLength: -138,
  tcpSocket: -601,
  tcpUnknownHost: -602,
  tcpConnect: -603,
  tcpReadFail: -606,
  tcpPeerShutdown: -608,
  sslCert: -702,
  sslConnect: -703,
  sslRead: -708,
} as const;

export const cmeError = (code: number, reason: string): Outcome => error(code, reason);
export const badParam = (reason: string): Outcome => error(CME.invalidParam, reason);
export const stateError = (reason: string): Outcome => error(CME.state, reason);

/** `+TCMQTTCONN: FAIL,<err>` for a refused CONNACK (return codes 1–5, MQTT 3.1.1 §3.2.2.3). */
export function connackError(returnCode: number): number {
  switch (returnCode) {
    case 1:
      return SDK.connackProtocol;
    case 2:
      return SDK.connackIdentifier;
    case 3:
      return SDK.connackUnavailable;
    case 4:
      return SDK.connackBadUserdata;
    case 5:
      return SDK.connackNotAuthorized;
    default:
      return SDK.connackUnknown;
  }
}

/**
 * The SDK's code for a transport that could not be opened. Over TLS the SDK's TLS layer reports
 * every failure of the connect as QCLOUD_ERR_SSL_CONNECT (-703); over TCP the host lookup (-602)
 * and the connect (-603) are told apart.
 */
export function openError(reason: OpenFailure, tls: boolean): number {
  if (tls) return SDK.sslConnect;
  return reason === 'dns' ? SDK.tcpUnknownHost : SDK.tcpConnect;
}

/** The SDK's code for a connection attempt that ended without CONNACK. */
export function connectError(outcome: Exclude<ConnectOutcome, { kind: 'accepted' }>, tls: boolean): number {
  switch (outcome.kind) {
    case 'refused':
      return connackError(outcome.returnCode);
    case 'timeout':
      return SDK.mqttRequestTimeout;
    case 'closed':
      return tls ? SDK.sslRead : SDK.tcpPeerShutdown;
  }
}

/**
 * `+TCMQTTDISCON,<err>` for an established connection that ended (§5.2): the server closing it is
 * what the SDK's read sees as a peer shutdown (TCP -608; the TLS layer reports a read error, -708),
 * a socket error a read failure (-606 / -708), a missing PINGRESP "no connection" (-103).
 */
export function disconnectError(reason: CloseReason, tls: boolean): number {
  switch (reason) {
    case 'remote-closed':
      return tls ? SDK.sslRead : SDK.tcpPeerShutdown;
    case 'error':
    case 'local':
      return tls ? SDK.sslRead : SDK.tcpReadFail;
    case 'ping-timeout':
    case 'disconnected':
      return SDK.mqttNoConn;
  }
}

/** §6.3, by the platform's `ErrorCode_SDK_<name>`: the same table the virtual cloud answers with. */
export const DYNREG = TENCENT_DYNREG_ERRORS;

/** The §6.3 code for the platform's error name (`ErrorCode_SDK_NoSuchDevice` → 1020); 1000 if unknown. */
export function dynregErrorCode(code: unknown): number {
  if (typeof code === 'number' && Number.isInteger(code)) return code;
  if (typeof code !== 'string') return DYNREG.InternalError;
  const name = code.replace(/^ErrorCode_SDK_/, '') as keyof typeof DYNREG;
  return DYNREG[name] ?? DYNREG.InternalError;
}
