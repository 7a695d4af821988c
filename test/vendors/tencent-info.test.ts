/**
 * Tencent IoT AT §2 commands, byte for byte: AT+TCREGNET, AT+TCDEVINFOSET (flash, BCC, refusals),
 * AT+TCPRDINFOSET, AT+TCMODULE, AT+TCRESTORE; the test forms of every command; spacing as a
 * profile setting; bad input. The manual's commands the ESP8266 build lacks (AT+TCREGNET,
 * AT+TCCERT*; Tencent's test reports) run on tencent-qcloud-cellular.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cellular, cme, dialUp, OK, okThen, reply, startTencent, type HarnessOptions, type TencentHarness } from './tencent-harness.js';

const FIXTURES = path.join(import.meta.dirname, '..', '..', 'fixtures', 'transcripts', 'tencent-qcloud-cellular');
const CERT = readFileSync(path.join(FIXTURES, 'general_cdev1_cert.crt'));
const KEY = readFileSync(path.join(FIXTURES, 'general_cdev1_private.key'));

const running: TencentHarness[] = [];
afterEach(async () => {
  for (const h of running.splice(0).reverse()) await h.stop();
});
async function tc(opts: HarnessOptions = {}): Promise<TencentHarness> {
  const h = await startTencent(opts);
  running.push(h);
  return h;
}

/** Store a file with AT+TCCERTADD (exact size, then the CRLF drivers add). */
async function addCert(h: TencentHarness, name: string, data: Buffer): Promise<void> {
  expect(await h.at(`AT+TCCERTADD="${name}",${data.length}`)).toBe('\r\nOK\r\n\r\n>\r\n');
  h.clear();
  h.send(Buffer.concat([data, Buffer.from('\r\n')]));
  await h.waitFor('\r\n+TCCERTADD:OK\r\n');
}

/** The profile with another firmware build (settings.tencent-qcloud.firmware). */
const firmware = (fw: 'v1' | 'v2' | 'manual'): HarnessOptions => ({ tweak: (p) => void ((p.settings['tencent-qcloud'] as { firmware?: string }).firmware = fw) });

describe('test forms (=?)', () => {
  it('answer with the manual\'s syntax lines, no space after the colon (firmware "manual", the cellular build that has every command)', async () => {
    const h = await tc(cellular(firmware('manual')));
    const cases: [string, string][] = [
      ['AT+TCREGNET=?', reply('+TCREGNET:"MODULE_TYPE(0/1)","ACTION(0/1)","SSID","PSW"(WIFI_MODULE),"APN"(CELLULAR_MODULE)')],
      ['AT+TCDEVINFOSET=?', reply('+TCDEVINFOSET:"TLSMODE(0/1/2)","PRODUCTID","DEVICENAME","DEVICESECRET"(TLSMODE=0/1) or "CERTNAME"(TLSMODE=2)')],
      ['AT+TCCERTADD=?', reply('+TCCERTADD:"CERT_NAME",CERT_SIZE(1-4096)')],
      ['AT+TCCERTCHECK=?', reply('+TCCERTCHECK:"Cert_name"')],
      ['AT+TCCERTDEL=?', reply('+TCCERTDEL:"Cert_name"')],
      ['AT+TCPRDINFOSET=?', reply('+TCPRDINFOSET:"TLS_MODE(0/1/2)","PRODUCT_ID","PRODUCT_SECRET_BCC","DEVICE_NAME"')],
      ['AT+TCDEVREG=?', OK],
      ['AT+TCRESTORE=?', OK],
      ['AT+TCMQTTCONN=?', reply('+TCMQTTCONN:<TLSMODE_SELECTED>,<CMDTIMEOUT_VALUE>,<KEEPALIVE>(max 690s),<CLEAN_SESSION>(0/1),<RECONNECT>(0/1)')],
      ['AT+TCMQTTDISCONN=?', OK],
      ['AT+TCMQTTPUB=?', reply('+TCMQTTPUB:"TOPIC_NAME(maxlen 128)","QOS(0/1)","PAYLOAD(maxlen 1024)"')],
      ['AT+TCMQTTPUBL=?', reply('+TCMQTTPUBL:"TOPIC_NAME(maxlen 128)","QOS(0/1)","LEN(1-10240)"')],
      ['AT+TCMQTTSUB=?', reply('+TCMQTTSUB:"TOPIC_NAME(maxlen 128)","QOS(0/1)"')],
      ['AT+TCMQTTUNSUB=?', reply('+TCMQTTUNSUB:"TOPIC_NAME"')],
      ['AT+TCMQTTSTATE=?', OK],
      ['AT+TCOTASET=?', reply('+TCOTASET:"ENABLE/DISABLE","FW_version"')],
      ['AT+TCFWINFO=?', reply('+TCFWINFO:"FW_VERSION","FW_SIZE","FW_MD5","FW_MAX_SIZE_OF_MODULE"')],
      ['AT+TCREADFWDATA=?', reply('+TCREADFWDATA:"LEN_FOR_READ"')],
    ];
    for (const [line, expected] of cases) expect(await h.at(line), line).toBe(expected);
  });

  it('do not exist for AT+TCMODULE (exec only), nor read forms the manual does not give', async () => {
    const h = await tc();
    expect(await h.at('AT+TCMODULE=?')).toBe('\r\nERROR\r\n');
    expect(await h.at('AT+TCMODULE?')).toBe('\r\nERROR\r\n');
    expect(await h.at('AT+TCMQTTSTATE')).toBe('\r\nERROR\r\n');
    expect(await h.at('AT+TCMQTTPUB?')).toBe('\r\nERROR\r\n');
    // Unknown to the ESP-AT core: its error-code line comes first (profile at.unknownCommandLines).
    expect(await h.at('AT+TCNOSUCHCMD')).toBe('\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n');
  });

  it('are unknown on the ESP8266 build for the commands it does not have: certificates, AT+TCREGNET and the 3GPP basics', async () => {
    const h = await tc();
    // Tencent's test reports of real ESP8266 modules (v1.2.0, v2.1.0): 指令不存在.
    const unknown = '\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n';
    for (const line of ['AT+TCCERTADD=?', 'AT+TCCERTCHECK=?', 'AT+TCCERTDEL=?', 'AT+TCREGNET=?', 'AT+TCREGNET?', 'AT+CSQ', 'AT+CFUN=0', 'AT+CREG?', 'AT+CEREG?', 'AT+CGATT?', 'AT+CPIN?', 'AT+CGMR']) {
      expect(await h.at(line), line).toBe(unknown);
    }
    // AT+GMR is ESP-AT's own.
    expect(await h.at('AT+GMR')).toContain('AT version:');
  });
});

describe('AT+TCREGNET (§2.1) on the cellular build', () => {
  it('reports the data path once the driver has dialled it: type 0, its IP and <csq>', async () => {
    const h = await tc(cellular());
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:0,0,,24'));
    await dialUp(h);
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:0,1,"10.245.3.118",24'));
  });

  it('dials, closes and joins Wi-Fi with the URCs of §5.6', async () => {
    const h = await tc(cellular());
    expect(await h.exchange('AT+TCREGNET=0,1,"CMNET"', okThen('+TCREGNET:0,NET_OK'))).toBe(okThen('+TCREGNET:0,NET_OK'));
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:0,1,"10.245.3.118",24'));
    expect(await h.exchange('AT+TCREGNET=0,0', okThen('+TCREGNET:0,NET_CLOSE'))).toBe(okThen('+TCREGNET:0,NET_CLOSE'));
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:0,0,,24'));
    expect(await h.exchange('AT+TCREGNET=1,1,"Office",""', okThen('+TCREGNET:1,NET_OK'))).toBe(okThen('+TCREGNET:1,NET_OK'));
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:1,1,"192.168.1.100","Office",""'));
  });

  it('fails to join a hotspot that is not in range or with the wrong password: NET_FAIL,202', async () => {
    const h = await tc(
      cellular({
        tweak: (p) => {
          (p.settings['tencent-qcloud'] as { network: { hotspots?: unknown } }).network.hotspots = [{ ssid: 'Lab', password: 'goodpass' }];
        },
      }),
    );
    await dialUp(h);
    expect(await h.exchange('AT+TCREGNET=1,1,"Lab","badpass1"', okThen('+TCREGNET:1,NET_FAIL,202'))).toBe(okThen('+TCREGNET:1,NET_FAIL,202'));
    expect(await h.exchange('AT+TCREGNET=1,1,"Elsewhere","goodpass"', okThen('+TCREGNET:1,NET_FAIL,202'))).toBe(okThen('+TCREGNET:1,NET_FAIL,202'));
    expect(await h.at('AT+TCREGNET?')).toBe(reply('+TCREGNET:1,0,,"Elsewhere","goodpass"'));
    expect(await h.exchange('AT+TCREGNET=1,1,"Lab","goodpass"', okThen('+TCREGNET:1,NET_OK'))).toBe(okThen('+TCREGNET:1,NET_OK'));
  });

  it('reports NET_CLOSE when the radio goes and NET_OK when it is back (the network AT+TCREGNET dialled)', async () => {
    const h = await tc(cellular());
    expect(await h.exchange('AT+TCREGNET=0,1,"cmnet"', okThen('+TCREGNET:0,NET_OK'))).toBe(okThen('+TCREGNET:0,NET_OK'));
    expect(await h.exchange('AT+CFUN=0', okThen('+TCREGNET:0,NET_CLOSE'))).toBe(okThen('+TCREGNET:0,NET_CLOSE'));
    expect(await h.exchange('AT+CFUN=1', okThen('+TCREGNET:0,NET_OK'))).toBe(okThen('+TCREGNET:0,NET_OK'));
  });

  it('refuses bad arguments with 204', async () => {
    const h = await tc(cellular());
    for (const line of [
      'AT+TCREGNET=2,1,"CMNET"',
      'AT+TCREGNET=0',
      'AT+TCREGNET=0,2',
      'AT+TCREGNET=0,1',
      'AT+TCREGNET=1,1,"ssid"',
      'AT+TCREGNET=1,1,"",""',
      'AT+TCREGNET=0,0,"CMNET"',
      `AT+TCREGNET=1,1,"${'s'.repeat(49)}","12345678"`,
      `AT+TCREGNET=1,1,"s","${'p'.repeat(49)}"`,
      'AT+TCREGNET=1,1,ssid,pw',
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
  });

  it('refuses a second command while a join is still running: 200', async () => {
    const h = await tc(cellular({ timing: 'real', tweak: (p) => void (p.timing.netJoin = 300) }));
    h.send('AT+TCREGNET=0,1,"CMNET"\r');
    await h.waitFor(OK);
    expect(await h.at('AT+TCREGNET=0,1,"CMNET"')).toBe(cme(200));
    expect(await h.at('AT+TCDEVINFOSET=1,"P","d","ZHNkIGRzZCA="')).toBe(cme(200));
    await h.waitFor('\r\n+TCREGNET:0,NET_OK\r\n', 3000);
  });
});

describe('AT+TCDEVINFOSET (§2.2)', () => {
  it('saves the device, prints the BCC of the secret and never the secret', async () => {
    const h = await tc();
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(OK);
    expect(await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
    const read = await h.at('AT+TCDEVINFOSET?');
    expect(read).toBe(reply('+TCDEVINFOSET:1,"CTQS08Y5LG","Dev01",116,"ap-guangzhou"'));
    expect(read).not.toContain('ZHNkIGRzZCA=');
  });

  it('keeps the device information across a restart of the module (flash in the state dir)', async () => {
    const h = await tc();
    await h.exchange('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    await h.stopModem();
    const again = await tc({ reuse: { broker: h.broker, stateDir: h.stateDir }, flashDir: h.flashDir });
    expect(await again.at('AT+TCDEVINFOSET?')).toBe(reply('+TCDEVINFOSET:0,"CTQS08Y5LG","device1",116,"ap-guangzhou"'));
    // The file holds the secret (it is the module's flash), privately.
    expect(readFileSync(path.join(h.flashDir, 'tencent-qcloud', 'devinfo.json'), 'utf8')).toContain('ZHNkIGRzZCA=');
  });

  it('refuses bad arguments with 204', async () => {
    const h = await tc();
    for (const line of [
      'AT+TCDEVINFOSET=3,"CTQS08Y5LG","Dev01","ZHNkIGRzZCA="',
      'AT+TCDEVINFOSET=1,"CTQS08Y5LGX","Dev01","ZHNkIGRzZCA="',
      `AT+TCDEVINFOSET=1,"CTQS08Y5LG","${'d'.repeat(49)}","ZHNkIGRzZCA="`,
      'AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01"',
      'AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01"," ZHNkIGRzZCA="',
      'AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01","not base64!"',
      'AT+TCDEVINFOSET=2,"CTQS08Y5LG","Dev01"',
      'AT+TCDEVINFOSET=1,"","Dev01","ZHNkIGRzZCA="',
      'AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01","ZHNkIGRzZCA=","x","y"',
      'AT+TCDEVINFOSET=1,CTQS08Y5LG,Dev01,ZHNkIGRzZCA=',
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(OK);
  });

  it('checks the certificate of tlsmode 2: missing 204, not PEM or without its key 203 (cellular build: the ESP8266 one has no certificates)', async () => {
    const h = await tc(cellular());
    const set = 'AT+TCDEVINFOSET=2,"MND067I4BM","dev_g1","general_cdev1_cert.crt"';
    expect(await h.exchange(set, okThen('+TCDEVINFOSET:FAIL,204'))).toBe(okThen('+TCDEVINFOSET:FAIL,204'));
    await addCert(h, 'general_cdev1_cert.crt', Buffer.from('this is not a certificate'));
    expect(await h.exchange(set, okThen('+TCDEVINFOSET:FAIL,203'))).toBe(okThen('+TCDEVINFOSET:FAIL,203'));
    await addCert(h, 'general_cdev1_cert.crt', CERT);
    expect(await h.exchange(set, okThen('+TCDEVINFOSET:FAIL,203'))).toBe(okThen('+TCDEVINFOSET:FAIL,203'));
    await addCert(h, 'general_cdev1_private.key', KEY);
    expect(await h.exchange(set, okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
    // Firmware "manual" (the cellular build): no product region at the end.
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply('+TCDEVINFOSET:2,"MND067I4BM","dev_g1","general_cdev1_cert.crt"'));
    // The 5th argument names the certificate when given.
    expect(await h.exchange('AT+TCDEVINFOSET=2,"MND067I4BM","dev_g1","","general_cdev1_cert.crt"', okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
  });

  it('is refused while connected to the cloud (208) and accepted again after AT+TCMQTTDISCONN', async () => {
    const h = await tc();
    await h.exchange('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device1","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    expect(await h.exchange('AT+TCMQTTCONN=0,5000,240,1,0', okThen('+TCMQTTCONN:OK'))).toBe(okThen('+TCMQTTCONN:OK'));
    expect(await h.at('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device2","ZHNkIGRzZCA="')).toBe(cme(208));
    expect(await h.at('AT+TCPRDINFOSET=1,"CTQS08Y5LG","ZHNKIGRzZCA=","Dev01"')).toBe(cme(208));
    expect(await h.at('AT+TCDEVREG')).toBe(cme(208));
    expect(await h.at('AT+TCRESTORE')).toBe(cme(208));
    expect(await h.at('AT+TCMQTTDISCONN')).toBe(reply('+TCMQTTDISCON,2'));
    expect(await h.exchange('AT+TCDEVINFOSET=0,"CTQS08Y5LG","device2","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'))).toBe(okThen('+TCDEVINFOSET:OK'));
  });
});

describe('AT+TCPRDINFOSET (§2.6)', () => {
  it('saves the product, prints the BCC of the product secret', async () => {
    const h = await tc();
    expect(await h.at('AT+TCPRDINFOSET?')).toBe(OK);
    expect(await h.exchange('AT+TCPRDINFOSET=1,"CTQS08Y5LG","ZHNKIGRzZCA=","Dev01"', okThen('+TCPRDINFOSET:OK'))).toBe(okThen('+TCPRDINFOSET:OK'));
    expect(await h.at('AT+TCPRDINFOSET?')).toBe(reply('+TCPRDINFOSET:1,"CTQS08Y5LG",84,"Dev01"'));
  });

  it('refuses bad arguments with 204', async () => {
    const h = await tc();
    for (const line of [
      'AT+TCPRDINFOSET=1,"CTQS08Y5LG","ZHNKIGRzZCA="',
      'AT+TCPRDINFOSET=4,"CTQS08Y5LG","ZHNKIGRzZCA=","Dev01"',
      `AT+TCPRDINFOSET=1,"CTQS08Y5LG","${'s'.repeat(33)}","Dev01"`,
      'AT+TCPRDINFOSET=1,"CTQS08Y5LG","","Dev01"',
      'AT+TCPRDINFOSET=1,"CTQS08Y5LG","ZHNKIGRzZCA=","Dev01",1',
    ]) {
      expect(await h.at(line), line).toBe(cme(204));
    }
  });
});

describe('AT+TCMODULE (§2.8)', () => {
  it('prints the three required lines, then the extra ones, then OK', async () => {
    const h = await tc();
    expect(await h.at('AT+TCMODULE')).toBe(
      reply(
        'Module HW name: ESP-WROOM-02D',
        'Module FW version: QCloud_AT_ESP8266_v2.1.0',
        'Module Mac addr: 3c:71:bf:33:af:fd',
        'Module FW compiled time: Aug 18 2020 11:39:32',
        'Module Flash size: 2MB',
      ),
    );
  });

  it('names the firmware build of the firmware setting, and the identity follows it (v1, manual)', async () => {
    const v1 = await tc(firmware('v1'));
    const out = await v1.at('AT+TCMODULE');
    expect(out).toContain('Module FW version: QCloud_AT_ESP_WiFi_v1.2.0\r\n');
    expect(out).toContain('Module FW compiled time: Jan  2 2020 15:37:39\r\n');
    expect(v1.modem.device.profile.identity.revision).toBe('QCloud_AT_ESP_WiFi_v1.2.0');
    expect(await v1.at('ATI')).toBe(reply('ESP-WROOM-02D', 'QCloud_AT_ESP_WiFi_v1.2.0'));
    const manual = await tc(firmware('manual'));
    expect(await manual.at('AT+TCMODULE')).toContain('Module FW version: QCloud_AT_v1.0.0_ESP_WiFi\r\nModule Mac addr: 3c:71:bf:33:af:fd\r\nModule FW compiled time: Jun 11 2019 20:30:10\r\n');
    expect(await manual.at('ATI')).toBe(reply('ESP-WROOM-02D', 'QCloud_AT_v1.0.0_ESP_WiFi'));
  });
});

describe('AT+TCRESTORE (§2.9)', () => {
  it('clears device and product, keeps the module information, and restarts', async () => {
    const h = await tc();
    await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET:OK'));
    await h.exchange('AT+TCPRDINFOSET=1,"CTQS08Y5LG","ZHNKIGRzZCA=","Dev01"', okThen('+TCPRDINFOSET:OK'));
    // The restart rejoins the saved access point (ESP-AT's messages after ready; profile notes).
    const restarted = `${OK}\r\nready\r\n\r\nWIFI CONNECTED\r\n\r\nWIFI GOT IP\r\n`;
    expect(await h.exchange('AT+TCRESTORE', restarted)).toBe(restarted);
    // Echo is back on after the restart, as at power-on.
    expect(await h.exchange('ATE0', `ATE0\r${OK}`)).toBe(`ATE0\r${OK}`);
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(OK);
    expect(await h.at('AT+TCPRDINFOSET?')).toBe(OK);
    expect(await h.at('AT+TCMODULE')).toContain('Module HW name: ESP-WROOM-02D');
  });

  it('clears the certificates too (cellular build)', async () => {
    const h = await tc(cellular());
    await addCert(h, 'a.crt', CERT);
    h.modem.device.reboot = undefined;
    expect(await h.at('AT+TCRESTORE')).toBe(OK);
    expect(await h.at('AT+TCCERTADD?')).toBe(OK);
    expect(await h.at('AT+TCMODULE')).toContain('Module HW name: N21');
  });

  it('uses the modem\'s own restart when it offers one', async () => {
    const h = await tc();
    let rebooted = 0;
    h.modem.device.reboot = () => void rebooted++;
    expect(await h.at('AT+TCRESTORE')).toBe(OK);
    await new Promise((r) => setTimeout(r, 20));
    expect(rebooted).toBe(1);
  });
});

describe('response spacing (§1.2.4)', () => {
  it('puts one space after the colon when the profile says so', async () => {
    const h = await tc({ tweak: (p) => void ((p.settings['tencent-qcloud'] as { colonSpace: boolean }).colonSpace = true) });
    expect(await h.exchange('AT+TCDEVINFOSET=1,"CTQS08Y5LG","Dev01","ZHNkIGRzZCA="', okThen('+TCDEVINFOSET: OK'))).toBe(okThen('+TCDEVINFOSET: OK'));
    expect(await h.at('AT+TCDEVINFOSET?')).toBe(reply('+TCDEVINFOSET: 1,"CTQS08Y5LG","Dev01",116,"ap-guangzhou"'));
    expect(await h.at('AT+TCMQTTSTATE?')).toBe(reply('+TCMQTTSTATE: 0'));
  });
});
