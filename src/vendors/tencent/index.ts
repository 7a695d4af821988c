/**
 * The Tencent IoT AT command set (腾讯云 IoT MQTT AT 指令 V3.1.3, shared/specs/tencent-qcloud-at.txt):
 * §2 network, device and module information, §3 MQTT, §4 OTA, §5 URCs, §6 error codes — as the
 * QCloud AT firmware for the ESP8266 answers them (profile `tencent-qcloud`).
 */
import type { Line } from '../../at/types.js';
import type { CommandSet, Device } from '../../modem/device.js';
import { memoryFlashStore } from '../../modem/module-flash.js';
import { TencentMqttClient, type Credentials } from './client.js';
import { JobSlot, TENCENT_SET_ID, type TencentContext, type TencentProfileData } from './context.js';
import { CME, SDK } from './errors.js';
import { firmwareTraits, payloadEscapes } from './firmware.js';
import { TencentFlash } from './flash.js';
import { TcFormat } from './format.js';
import { TencentNetwork } from './network.js';
import { TencentOta } from './ota.js';
import { pskSignIn, tencentUsername } from './sign.js';
import { tccertaddCommand } from './tccertadd.js';
import { tccertcheckCommand } from './tccertcheck.js';
import { tccertdelCommand } from './tccertdel.js';
import { certPair, tcdevinfosetCommand } from './tcdevinfoset.js';
import { tcdevregCommand } from './tcdevreg.js';
import { tcfwinfoCommand } from './tcfwinfo.js';
import { tcmoduleCommand } from './tcmodule.js';
import { tcmqttconnCommand } from './tcmqttconn.js';
import { tcmqttdisconnCommand } from './tcmqttdisconn.js';
import { tcmqttpubCommand } from './tcmqttpub.js';
import { tcmqttpublCommand } from './tcmqttpubl.js';
import { tcmqttstateCommand } from './tcmqttstate.js';
import { tcmqttsubCommand } from './tcmqttsub.js';
import { tcmqttunsubCommand } from './tcmqttunsub.js';
import { tcotasetCommand } from './tcotaset.js';
import { tcprdinfosetCommand } from './tcprdinfoset.js';
import { tcreadfwdataCommand } from './tcreadfwdata.js';
import { tcregnetCommand } from './tcregnet.js';
import { tcrestoreCommand } from './tcrestore.js';

export { TENCENT_SET_ID } from './context.js';

export function tencentQcloudCommandSet(device: Device): CommandSet {
  const data = device.profile.settings[TENCENT_SET_ID] as TencentProfileData | undefined;
  if (!data) throw new Error(`profile ${device.profile.id}: settings["${TENCENT_SET_ID}"] missing`);
  const log = device.log.child({ component: 'tencent' });
  // The identity follows the firmware build (AT+CGMR, ATI, the control API's about): the build's
  // name is what the module reports as its firmware (AT+TCMODULE "Module FW version").
  const build = data.builds?.[firmwareTraits(data).firmware];
  if (build) {
    const id = device.profile.identity;
    const old = id.revision;
    id.revision = build.version;
    id.ati = id.ati.map((l) => (l === old ? build.version : l));
  }
  const fmt = new TcFormat(data.colonSpace);
  // Without a flash from the modem (no state dir) the records last as long as the process; a
  // restart of the module keeps them either way.
  const ram = memoryFlashStore();
  const flash = new TencentFlash(() => device.flash ?? ram);
  const report = (line: Line, delayName?: string): void => device.urc(line, delayName ? device.timing.delay(delayName, 20) : 0);
  const jobs = new JobSlot((line) => report(line, 'result'), log);
  const net = new TencentNetwork(device, data);

  let ota: TencentOta | undefined;
  const credentials = (tlsmode: 0 | 1 | 2): Credentials | { error: number } => {
    const info = flash.devInfo();
    if (!info) return { error: CME.state };
    const username = tencentUsername(info.productId, info.deviceName, data.sdkAppId, data.usernameExpiry);
    const clientId = `${info.productId}${info.deviceName}`;
    if (tlsmode === 2) {
      const pair = info.certName ? certPair(q, info.certName) : { error: SDK.sslCert, why: 'no certificate' };
      if ('error' in pair) {
        log.info({ why: pair.why }, 'certificate sign-in impossible');
        return { error: SDK.sslCert };
      }
      return { productId: info.productId, clientId, username, cert: pair.cert, key: pair.key };
    }
    try {
      return {
        productId: info.productId,
        ...pskSignIn({
          productId: info.productId,
          deviceName: info.deviceName,
          deviceSecret: info.deviceSecret ?? '',
          sdkAppId: data.sdkAppId,
          expiry: data.usernameExpiry,
        }),
      };
    } catch {
      return { error: SDK.connackBadUserdata };
    }
  };
  const client = new TencentMqttClient(device, data, fmt, {
    credentials,
    netReady: () => net.ready,
    internalMessage: (m) => ota?.handle(m) ?? false,
    report,
  });
  ota = new TencentOta(device, data, flash, client, report, (state) => fmt.line('TCOTASTATUS', state));
  const q: TencentContext = { device, data, log, fmt, flash, client, net, ota, jobs, report, fw: firmwareTraits(data), escapes: payloadEscapes(data) };

  net.onClosed = () => client.networkLost();
  // ESP8266 builds: the station losing its access point ends the connection like a network loss
  // (`WIFI DISCONNECT` from the esp-at set, then +TCMQTTDISCON; the client reconnects once it is back).
  device.wifi?.on('disconnected', () => client.networkLost());
  // The radio (AT+CFUN, registration) carries the network (§5.6 NET_CLOSE when it goes).
  device.network.on('down', () => {
    if (!net.joined) return;
    // NET_CLOSE first: the MQTT connection's +TCMQTTDISCON follows it.
    report(fmt.line('TCREGNET', `${net.type},NET_CLOSE`));
    net.radioDown();
  });
  device.network.on('up', () => {
    if (net.radioUp()) report(fmt.line('TCREGNET', `${net.type},NET_OK`), 'netJoin');
  });
  device.network.on('change', () => net.radioChanged());

  const dispose = (): void => {
    jobs.reset();
    client.destroy();
    ota!.reset();
    net.reset();
  };
  /** AT+TCRESTORE's restart: the modem's when it has one, else this set's own plus its boot URCs. */
  const restart = (): void => {
    if (device.reboot) {
      device.reboot();
      return;
    }
    dispose();
    device.engine.settings.echo = device.profile.at.echo;
    device.engine.settings.cmee = device.profile.at.cmee;
    const urcs = (device.profile.settings.boot as { urcs?: string[] } | undefined)?.urcs ?? [];
    for (const u of urcs) report(u, 'boot');
  };

  return {
    commands: [
      tcregnetCommand(q),
      tcdevinfosetCommand(q),
      tccertaddCommand(q),
      tccertcheckCommand(q),
      tccertdelCommand(q),
      tcprdinfosetCommand(q),
      tcdevregCommand(q),
      tcmoduleCommand(q),
      tcrestoreCommand(q, restart),
      tcmqttconnCommand(q),
      tcmqttdisconnCommand(q),
      tcmqttpubCommand(q),
      tcmqttpublCommand(q),
      tcmqttsubCommand(q),
      tcmqttunsubCommand(q),
      tcmqttstateCommand(q),
      tcotasetCommand(q),
      tcfwinfoCommand(q),
      tcreadfwdataCommand(q),
    ],
    // ATZ / AT&F leave the Tencent settings alone; a restart (dispose) resets the RAM state.
    reset: () => {},
    inspect: () => {
      const info = flash.devInfo();
      return {
        network: { type: net.type, joined: net.joined },
        device: info ? { tlsmode: info.tlsmode, productId: info.productId, deviceName: info.deviceName } : null,
        mqtt: client.inspect(),
        ota: { enabled: ota!.enabled, version: ota!.version, downloading: ota!.downloading },
        busy: jobs.busy ?? null,
      };
    },
    dispose,
  };
}
