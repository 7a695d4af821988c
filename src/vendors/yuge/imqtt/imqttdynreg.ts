/**
 * AT+IMQTTDYNREG — 阿里云平台动态注册三元组（一型一密） (manual §2.16
 * "AT+IMQTTDYNREG 阿里云平台动态注册三元组（一型一密）").
 *   AT+IMQTTDYNREG=<type>,<mode>,<ProduceKey>,<DeviceName>,<ProduceSecret>   (type 0 or 1)
 *       → OK, then  mode 1: +IMQTTDYNREG:1,"<ProduceKey>","<DeviceName>","<DeviceSecret>"
 *                   mode 2: +IMQTTDYNREG:2,"<ClientID>","<UserName>","<PassWord>"
 *   AT+IMQTTDYNREG=2
 *       → +IMQTTDYNREG: 1,"<ProduceKey>","<DeviceName>","<DeviceSecret>"   (saved, pre-registered)
 *         +IMQTTDYNREG: 2,"<ClientID>","<UserName>","<PassWord>"            (saved, registration-free)
 *         OK
 *   AT+IMQTTDYNREG?   → +IMQTTDYNREG:<save>,<mode>,<ProduceKey>,<DeviceName>,<ProduceSecret>  OK
 *   AT+IMQTTDYNREG=?  → OK
 * <type>: 0 register without saving, 1 register and save the triple in flash, 2 list the saved
 * triples (empty strings when none). <mode>: 1 one-product-one-secret with pre-registration
 * (Aliyun authType=register; the reply is the DeviceSecret), 2 without pre-registration
 * (authType=regnwl; the reply is a clientId and token, reported as the connwl triple to use with
 * AT+IMQTTUSER / AT+IMQTTADDR). The module connects to AT+IMQTTADDR's host and port ("用于
 * AT+IMQTTDYNREG 动态注册指令使用"), TLS per AT+IMQTTMODE, and the platform refuses a device that
 * has already been activated ("如果设备已经连接激活后, 再使用 AT+IMQTTDYNREG 请求时会失败").
 *
 * Where the manual is silent (client.ts): a failed registration reports `+IMQTTDYNREG:-1`; ERROR
 * while an MQTT connection or another registration is in progress, for a missing or empty
 * argument, and for extra arguments after <type> 2. The listing has a space after the colon, as
 * all four printed listings do; the result line has none, as its examples (format.ts). §2.16's
 * mode-1 result example ends with a stray comma, which is not printed. Without AT+IMQTTADDR the
 * product's Aliyun host is used. The read form repeats the last request (none yet: just OK),
 * ProduceSecret included, as its syntax row shows.
 */
import { ok, type CommandDef, type Outcome } from '../../../at/types.js';
import { decodeArgs } from '../../../at/decode-args.js';
import { fail, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line, quoted, spacedLine } from './format.js';
import { loadSavedTriples } from './saved-triples.js';

export function imqttdynregCommand(q: YugeContext): CommandDef {
  const d = q.data;
  const listing = (): Outcome => {
    const saved = loadSavedTriples(q.flash());
    const row = (mode: 1 | 2) => spacedLine('+IMQTTDYNREG', `${mode},${(saved[mode] ?? ['', '', '']).map((s) => quoted(textToAt(s))).join(',')}`);
    return ok(row(1), row(2));
  };
  return {
    name: '+IMQTTDYNREG',
    sensitive: true,
    test: () => ok(),
    read: () => {
      const r = q.client.dynregRequest;
      if (!r) return ok();
      return ok(line('+IMQTTDYNREG', `${r.save},${r.mode},${[r.productKey, r.deviceName, r.productSecret].map(textToAt).join(',')}`));
    },
    set: (ctx) => {
      const typeArg = ctx.args[0];
      if (ctx.args.length === 1 && typeArg?.kind === 'int' && typeArg.value === 2) return listing();
      const r = decodeArgs(
        [
          { name: 'type', type: 'int', values: [0, 1] },
          { name: 'mode', type: 'int', values: [1, 2] },
          str('ProduceKey', d.maxProductKeyLength, { minLength: 1 }),
          str('DeviceName', d.maxDeviceNameLength, { minLength: 1 }),
          str('ProduceSecret', d.maxSecretLength, { minLength: 1 }),
        ],
        ctx.args,
      );
      if (!r.ok) return fail(r.problem);
      const [type, mode, productKey, deviceName, productSecret] = r.values;
      const client = q.client;
      if (client.state !== 'idle') return fail(`client is ${client.state}`);
      client.register({
        save: type,
        mode,
        productKey: textFromAt(productKey),
        deviceName: textFromAt(deviceName),
        productSecret: textFromAt(productSecret),
      });
      return ok();
    },
  };
}
