/**
 * What every platform sign-in scheme (schemes/*.ts) takes and returns. A scheme first recognises
 * its own format (clientId/username/password shape) — returning null when the CONNECT is not
 * its kind — then checks the credentials against the registry.
 */
import type { PeerCertificate } from '../broker/embedded-broker.js';
import type { DeviceEntry, DeviceRegistry, Platform, ProductEntry } from './registry.js';
import type { TopicPolicy } from './topics.js';
import { expandRules, platformRules } from './topics.js';

/** The parts of a CONNECT (and its connection) the schemes look at. */
export interface SignInRequest {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  transport: 'tcp' | 'tls';
  peerCertificate: PeerCertificate | undefined;
}

export interface SignInContext {
  registry: DeviceRegistry;
  /** Current time in milliseconds since the epoch (expiry checks). */
  nowMs: number;
}

/** Something the cloud sends right after CONNACK, before it disconnects the client (dynamic registration). */
export interface ReplyThenClose {
  topic: string;
  payload: string;
}

/** Who a connection signed in as, and what it may do. */
export interface CloudSession {
  platform: Platform;
  productId: string;
  deviceName: string;
  /** The registry device; undefined for an unknown device admitted in zero-config mode. */
  device: DeviceEntry | undefined;
  /** `device`: a normal sign-in. `register`: a dynamic-registration connection (reply, then close). */
  purpose: 'device' | 'register';
  /** Topic permissions; null = unrestricted (devices the registry does not know). */
  policy: TopicPolicy | null;
  replyThenClose?: ReplyThenClose;
}

export type SignInResult =
  | { accept: true; session: CloudSession; detail: string }
  | { accept: false; returnCode: 2 | 3 | 4 | 5; reason: string };

export function refuse(returnCode: 2 | 3 | 4 | 5, reason: string): SignInResult {
  return { accept: false, returnCode, reason };
}

/** The permissions of a known device: its own rules, its product's, then the platform's. */
export function policyFor(product: ProductEntry | undefined, device: DeviceEntry): TopicPolicy {
  return {
    extra: [
      ...expandRules(device.topics, device.productId, device.deviceName),
      ...expandRules(product?.topics ?? [], device.productId, device.deviceName),
    ],
    platform: platformRules(device.platform, device.productId, device.deviceName),
  };
}

/** A device signed in with its own credentials: a session with the device's topic permissions. */
export function acceptDevice(ctx: SignInContext, device: DeviceEntry, detail: string): SignInResult {
  return {
    accept: true,
    detail,
    session: {
      platform: device.platform,
      productId: device.productId,
      deviceName: device.deviceName,
      device,
      purpose: 'device',
      policy: policyFor(ctx.registry.product(device.platform, device.productId), device),
    },
  };
}

/**
 * A device the registry does not list. With a registry file (strict) it is refused with
 * `returnCode`; in zero-config mode it is admitted without topic restrictions.
 */
export function unknownDevice(
  ctx: SignInContext,
  platform: Platform,
  productId: string,
  deviceName: string,
  returnCode: 2 | 3 | 4 | 5,
): SignInResult {
  if (ctx.registry.strict) return refuse(returnCode, 'device not in the registry');
  return {
    accept: true,
    detail: 'unknown device admitted (no registry)',
    session: { platform, productId, deviceName, device: undefined, purpose: 'device', policy: null },
  };
}
