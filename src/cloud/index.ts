/** The virtual cloud: device registry, platform sign-in schemes, topic permissions, HTTP(S) side. */
export { VirtualCloud, startVirtualCloud, type RunningCloud, type StartVirtualCloudOptions, type VirtualCloudOptions } from './virtual-cloud.js';
export {
  DeviceRegistry,
  PLATFORMS,
  type DeviceEntry,
  type NewDevice,
  type NewProduct,
  type Platform,
  type ProductEntry,
  type TopicAccess,
  type TopicRule,
} from './registry.js';
export { RegistryError, loadRegistry, parseRegistry } from './registry-file.js';
export { attachRegistryState, type RegistryStateStore } from './registry-state.js';
export type { CloudSession, SignInRequest, SignInResult } from './sign-in.js';
export { canPublish, canSubscribe, filterWithin, platformRules, topicMatches, validTopicFilter, type TopicPolicy } from './topics.js';
export { FirmwareCatalog, type FirmwareImage } from './firmware-catalog.js';
export { TencentServices, type TemplateMessage } from './tencent-services.js';
export { startCloudHttp, parseRange, type CloudHttp, type CloudHttpOptions } from './http-endpoints.js';
export { TENCENT_RC, TENCENT_SDK_APPID, tencentCredentials, verifyTencentPassword } from './schemes/tencent.js';
export {
  TENCENT_DYNREG_ERRORS,
  decryptTencentPayload,
  encryptTencentPayload,
  tencentDynregRequest,
  type TencentDynregError,
} from './schemes/tencent-dynreg.js';
export {
  ALIYUN_RC,
  aliyunConnwlCredentials,
  aliyunCredentials,
  aliyunRegisterCredentials,
  aliyunSign,
  aliyunSignContent,
  parseAliyunClientId,
  type AliyunSignMethod,
} from './schemes/aliyun.js';
export { ONENET_RC, onenetToken } from './schemes/onenet.js';
export { HUAWEI_RC, huaweiCredentials, huaweiPassword, huaweiTimestamp } from './schemes/huawei.js';
