/**
 * MQTT error codes (manual §5 "错误码"). Commands answer `+CME ERROR: <err>`, rendered per AT+CMEE
 * ("实际返回情况参考AT+CMEE命令", §2.2): numeric, verbose (profile.cmeErrors) or plain ERROR.
 */
import { error, type Outcome } from '../../../at/types.js';

export const MQTT_ERR = {
  /** 600 未知错误 */
  unknown: 600,
  /** 601 无效参数 */
  invalidParam: 601,
  /** 602 未连接或连接失败 */
  notConnected: 602,
  /** 603 正在连接 */
  connecting: 603,
  /** 604 已经连接 */
  alreadyConnected: 604,
  /** 605 网络错误 */
  network: 605,
  /** 606 存储错误 */
  storage: 606,
  /** 607 状态错误 */
  state: 607,
  /** 608 DNS错误 */
  dns: 608,
} as const;

export const fail = (code: number, reason: string): Outcome => error(code, reason);
export const badParam = (reason: string): Outcome => error(MQTT_ERR.invalidParam, reason);
