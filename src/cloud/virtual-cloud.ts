/**
 * The virtual cloud: the embedded broker playing Tencent, Aliyun, OneNET and Huawei IoT
 * platforms. It recognises each platform's sign-in format, checks it against the device registry,
 * enforces the platform's topic permissions, answers Aliyun's dynamic registration over MQTT, and
 * (with startVirtualCloud) serves Tencent's HTTPS registration and firmware downloads.
 *
 * Rules:
 * - No registry file (zero-config): every sign-in is accepted; devices the cloud has learnt about
 *   through dynamic registration are still checked.
 * - With a registry file: a sign-in in a platform's format for a device the registry does not
 *   list is refused with that platform's code; a listed device must present valid credentials.
 * - A client whose CONNECT matches no platform format (a plain MQTT tool, a test observer) is
 *   accepted without restrictions, unless `acceptUnrecognised` is false (then CONNACK 5).
 * - Topic permissions apply only to clients signed in as registry devices: a refused subscription
 *   gets SUBACK 0x80; a refused publish disconnects the client (MQTT 3.1.1 has no negative PUBACK;
 *   the Tencent manual's §6.1 code 130 "no topic publish permission" is the server dropping it).
 * - Tencent's platform topics are answered (tencent-services.ts): the time on `$sys/operation`,
 *   the data template on `$thing/up/…` and `$template/operation`; `cloud.tencent` sends a
 *   `control` or `action` to a device.
 * - QoS is granted as asked: Aedes reports the requested QoS in SUBACK whatever the hook
 *   returns, so Tencent's and Aliyun's "no QoS 2" is not emulated.
 */
import path from 'node:path';
import type { Client, PublishPacket, Subscription } from 'aedes';
import type { AuthRequest, Authenticator, EmbeddedBroker } from '../broker/embedded-broker.js';
import { ensureTlsMaterial } from '../broker/tls-material.js';
import type { Logger } from '../util/logger.js';
import { silentLogger } from '../util/logger.js';
import { FirmwareCatalog } from './firmware-catalog.js';
import { startCloudHttp, type CloudHttp } from './http-endpoints.js';
import { DeviceRegistry } from './registry.js';
import { attachRegistryState, type RegistryStateStore } from './registry-state.js';
import type { SharedCloudState } from './redis-cloud-state.js';
import type { RedisEndpoint } from '../util/redis-url.js';
import { aliyunSignIn } from './schemes/aliyun.js';
import { huaweiSignIn } from './schemes/huawei.js';
import { onenetSignIn } from './schemes/onenet.js';
import { tencentSignIn } from './schemes/tencent.js';
import type { CloudSession, SignInContext, SignInRequest, SignInResult } from './sign-in.js';
import { TencentServices } from './tencent-services.js';
import { canPublish, canSubscribe } from './topics.js';

export interface VirtualCloudOptions {
  /** Default: the empty, zero-config registry. */
  registry?: DeviceRegistry;
  /** Milliseconds since the epoch (expiry checks). Default Date.now. */
  now?: () => number;
  /** Accept CONNECTs in no platform's format (default true). */
  acceptUnrecognised?: boolean;
  log?: Logger;
}

/** Order matters only for robustness: the formats do not overlap. */
const SCHEMES: ((req: SignInRequest, ctx: SignInContext) => SignInResult | null)[] = [aliyunSignIn, huaweiSignIn, tencentSignIn, onenetSignIn];

/** How long a registration client may linger after its reply before the cloud drops it. */
const REGISTRATION_LINGER_MS = 1000;

export class VirtualCloud {
  readonly registry: DeviceRegistry;
  private readonly now: () => number;
  private readonly acceptUnrecognised: boolean;
  private readonly log: Logger;
  private readonly sessions = new WeakMap<Client, CloudSession>();
  /** Tencent's platform topics (time, data template), once attached to a broker. */
  tencent: TencentServices | undefined;

  constructor(opts: VirtualCloudOptions = {}) {
    this.registry = opts.registry ?? DeviceRegistry.empty();
    this.now = opts.now ?? Date.now;
    this.acceptUnrecognised = opts.acceptUnrecognised ?? true;
    this.log = (opts.log ?? silentLogger()).child({ component: 'cloud' });
  }

  /**
   * Decide a sign-in without side effects on any connection (dynamic registration does update
   * the registry). null = no platform format matched.
   */
  signIn(req: SignInRequest): SignInResult | null {
    const ctx: SignInContext = { registry: this.registry, nowMs: this.now() };
    for (const scheme of SCHEMES) {
      const result = scheme(req, ctx);
      if (result) return result;
    }
    return null;
  }

  /** The broker Authenticator (install with `broker.setAuthenticator`, or use `attach`). */
  readonly authenticate: Authenticator = (req: AuthRequest) => {
    const result = this.signIn(req);
    if (!result) {
      this.log.debug({ clientId: req.clientId, accepted: this.acceptUnrecognised }, 'sign-in in no platform format');
      return this.acceptUnrecognised ? true : 5;
    }
    if (!result.accept) {
      this.log.info({ clientId: req.clientId, username: req.username, returnCode: result.returnCode, reason: result.reason }, 'cloud sign-in refused');
      return result.returnCode;
    }
    const s = result.session;
    this.sessions.set(req.client, s);
    if (s.purpose === 'device' && s.device && !s.device.activated) this.registry.update(s.device, { activated: true });
    this.log.info(
      { clientId: req.clientId, platform: s.platform, productId: s.productId, deviceName: s.deviceName, how: result.detail },
      'cloud sign-in accepted',
    );
    return true;
  };

  /** Who a connected client signed in as; undefined for clients in no platform format. */
  sessionOf(client: Client): CloudSession | undefined {
    return this.sessions.get(client);
  }

  /**
   * Install on a broker: the authenticator, the authorize hooks and the dynamic-registration
   * replies. Returns a function that removes them again.
   */
  attach(broker: EmbeddedBroker): () => void {
    const aedes = broker.aedes;
    const previous = { authorizePublish: aedes.authorizePublish, authorizeSubscribe: aedes.authorizeSubscribe };
    broker.setAuthenticator(this.authenticate);

    aedes.authorizePublish = (client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void) => {
      // Keep Aedes' own rule: clients never publish on $SYS.
      if (packet.topic.startsWith('$SYS/')) return done(new Error('$SYS/ topic is reserved'));
      const s = client ? this.sessions.get(client) : undefined;
      if (s?.policy && !canPublish(s.policy, packet.topic)) {
        this.log.info({ clientId: client!.id, platform: s.platform, topic: packet.topic }, 'publish refused: no permission; disconnecting');
        return done(new Error(`not authorized to publish on ${packet.topic}`));
      }
      done(null);
    };

    aedes.authorizeSubscribe = (client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void) => {
      const s = this.sessions.get(client);
      if (s?.policy && !canSubscribe(s.policy, sub.topic)) {
        this.log.info({ clientId: client.id, platform: s.platform, topic: sub.topic }, 'subscribe refused: no permission');
        return done(null, null);
      }
      done(null, sub);
    };

    const onReady = (client: Client): void => {
      const reply = this.sessions.get(client)?.replyThenClose;
      if (!reply) return;
      const packet: PublishPacket = {
        cmd: 'publish',
        topic: reply.topic,
        payload: Buffer.from(reply.payload, 'utf8'),
        qos: 0,
        retain: false,
        dup: false,
      };
      this.log.debug({ clientId: client.id, topic: reply.topic }, 'sending the registration reply, then disconnecting');
      client.publish(packet, () => {
        // End our side once the reply is written (the client normally closes at once); drop it
        // if it lingers.
        (client.conn as { end?: () => void }).end?.();
        setTimeout(() => client.close(), REGISTRATION_LINGER_MS).unref();
      });
    };
    aedes.on('clientReady', onReady);
    const tencent = new TencentServices(broker, this.now, this.log.child({ platform: 'tencent' }));
    const stopTencent = tencent.attach();
    this.tencent = tencent;

    return () => {
      stopTencent();
      if (this.tencent === tencent) this.tencent = undefined;
      aedes.removeListener('clientReady', onReady);
      aedes.authorizePublish = previous.authorizePublish;
      aedes.authorizeSubscribe = previous.authorizeSubscribe;
      broker.setAuthenticator(null);
    };
  }
}

export interface StartVirtualCloudOptions {
  broker: EmbeddedBroker;
  /** A registry file (YAML/JSON); without one the cloud runs zero-config. */
  registryPath?: string;
  /** Or a registry built in code (takes precedence over registryPath). */
  registry?: DeviceRegistry;
  /** Keeps dynamic registrations in `<stateDir>/cloud/state.json`, and the TLS material in `<stateDir>/tls`. */
  stateDir?: string;
  /** Firmware catalog directory served at /firmware/<name>. */
  firmwareDir?: string;
  /** Plain HTTP port for registration and firmware (0 = ephemeral); omitted = none. */
  httpPort?: number;
  /** HTTPS port (0 = ephemeral); needs stateDir; uses the broker's TLS server certificate. */
  httpsPort?: number;
  host?: string;
  now?: () => number;
  acceptUnrecognised?: boolean;
  log?: Logger;
  /** A cluster node: share registrations, activations and firmware images with the other nodes through this Redis. */
  cluster?: { redis: RedisEndpoint; nodeId: string };
}

export interface RunningCloud {
  readonly cloud: VirtualCloud;
  readonly registry: DeviceRegistry;
  readonly firmware: FirmwareCatalog;
  readonly http: CloudHttp | undefined;
  /** The state file, when a stateDir was given. */
  readonly stateFile: string | undefined;
  /** Detach from the broker, stop HTTP, flush the state. The broker itself stays up. */
  close(): Promise<void>;
}

/** Load the registry, attach the cloud to the broker, persist its state and start the HTTP(S) side. */
export async function startVirtualCloud(opts: StartVirtualCloudOptions): Promise<RunningCloud> {
  const log = opts.log ?? silentLogger();
  // A registry file (YAML) and the cluster (ioredis) load their modules only when used: every
  // module loaded up front is paid by every cold `vmodem start` (issue 12 §3).
  const registry =
    opts.registry ?? (opts.registryPath ? await (await import('./registry-file.js')).loadRegistry(opts.registryPath) : DeviceRegistry.empty());
  let state: RegistryStateStore | undefined;
  if (opts.stateDir) state = await attachRegistryState(registry, path.join(opts.stateDir, 'cloud', 'state.json'), { log });

  const cloudOpts: VirtualCloudOptions = { registry, log };
  if (opts.now) cloudOpts.now = opts.now;
  if (opts.acceptUnrecognised !== undefined) cloudOpts.acceptUnrecognised = opts.acceptUnrecognised;
  const cloud = new VirtualCloud(cloudOpts);
  const firmware = new FirmwareCatalog(opts.firmwareDir);
  let shared: SharedCloudState | undefined;
  if (opts.cluster) {
    try {
      shared = await (await import('./redis-cloud-state.js')).shareCloudState(registry, firmware, { ...opts.cluster, log });
    } catch (err) {
      await state?.close();
      throw err;
    }
  }

  let http: CloudHttp | undefined;
  if (opts.httpPort !== undefined || opts.httpsPort !== undefined) {
    let tls: { key: string; cert: string } | undefined;
    if (opts.httpsPort !== undefined) {
      if (!opts.stateDir) throw new Error('HTTPS endpoints need a state directory for their certificate');
      const m = await ensureTlsMaterial(opts.stateDir, { log });
      tls = { key: m.key, cert: m.cert };
    }
    try {
      http = await startCloudHttp({
        registry,
        firmware,
        log,
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}),
        ...(opts.httpsPort !== undefined ? { httpsPort: opts.httpsPort } : {}),
        ...(tls ? { tls } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      });
    } catch (err) {
      await shared?.close();
      await state?.close();
      throw err;
    }
  }
  const detach = cloud.attach(opts.broker);
  log.child({ component: 'cloud' }).info(
    { registry: registry.source ?? null, products: registry.products().length, http: http?.httpUrl, https: http?.httpsUrl },
    registry.strict ? 'virtual cloud started' : 'virtual cloud started (no registry: every sign-in accepted)',
  );

  let closing: Promise<void> | undefined;
  return {
    cloud,
    registry,
    firmware,
    http,
    stateFile: state?.file,
    close: () =>
      (closing ??= (async () => {
        detach();
        await http?.close();
        await shared?.close();
        await state?.close();
      })()),
  };
}
