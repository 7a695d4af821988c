/**
 * Tencent IoT platform tables that both sides need: the virtual cloud answers with them and the
 * Tencent AT command set reports them to the firmware. They live here, below both, so that no
 * vendor imports the cloud (dependencies point one way: DESIGN.md "Shape").
 */

/**
 * 腾讯云 IoT MQTT AT 指令 V3.1.3 §6.3 "设备动态注册错误码": the dynamic-registration codes, by
 * their internal names (`ErrorCode_SDK_<name>`). The cloud's HTTP endpoint answers them
 * (`{"code":<n>}`); the module reports them in `+TCDEVREG: FAIL,<err_code>`.
 */
export const TENCENT_DYNREG_ERRORS = {
  InternalError: 1000,
  ProductNotExists: 1004,
  InvalidParam: 1006,
  CheckSecretError: 1010,
  NotSupportRegister: 1011,
  ExceedRegisterTimes: 1012,
  NoSuchDevice: 1020,
  DeviceHasRegistered: 1021,
  ExceedRegisterLimits: 1031,
} as const;
export type TencentDynregError = keyof typeof TENCENT_DYNREG_ERRORS;
