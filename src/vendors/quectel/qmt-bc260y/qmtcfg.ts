/**
 * AT+QMTCFG 配置 MQTT 参数 — configure MQTT parameters (BC260Y-CN manual §3.3.1).
 *   AT+QMTCFG=?                                → nine `+QMTCFG: "<option>",(0-4),…` lines, OK
 *   AT+QMTCFG="<option>",<TCP_connectID>       → +QMTCFG: <values…>, OK   (query: no option name)
 *   AT+QMTCFG="<option>",<TCP_connectID>,<v…>  → OK                       (set)
 * The nine options and their encodings are this module's own: "will", "timeout" (<pkttimeout>
 * 1–60 default 30, <retry_times> 0–10 default 0, <timeout_notice>), "session", "keepalive"
 * (0–3600, default 120), "aliauth", "version" (0 = MQTT 3.1, 1 = MQTT 3.1.1), "showrecvlen",
 * "echomode", "dataformat". Errors answer "ERROR 或 +CME ERROR: <err>" (see ./errors.ts).
 * "参数配置立即生效，掉电后不保存": settings apply at once (the next CONNECT for the connect-time
 * ones) and are lost at power-off.
 *
 * Where the manual is silent or cut by the scan:
 * - Unlike the EC200, the query reply carries no option name: §6.1 shows
 *   `AT+QMTCFG="showrecvlen",0` → `+QMTCFG: 0`.
 * - Nothing documents a refusal while connected ("立即生效"), so every option may be set at any
 *   time; will/session/keepalive/version/aliauth take effect at the next AT+QMTCONN.
 * - The option name is matched case-insensitively; replies use the manual's spelling.
 * - Optional values left out keep their previous value (§3.1.1): "timeout" may set any of its
 *   three values alone (`AT+QMTCFG="timeout",0,,3`). Values the syntax does not bracket
 *   separately ("aliauth"'s three strings, "dataformat"'s two formats) must be given together.
 *   A set whose values are all empty is an invalid parameter (8507).
 * - "will" with <will_fg> 1 needs all four values (note 1), else 8507; with 0 the will is
 *   cleared and any further values are ignored ("若参数<will_fg>=0，则省略以上参数"). The will topic
 *   follows the topic-name rules of AT+QMTPUB (1–256 bytes, UTF-8, no wildcards); the will message
 *   is payload and keeps its bytes as typed.
 * - "aliauth" prints nothing when unset (note 4); setting all three strings empty forgets it.
 *   The query prints the secret as documented; logs never carry it.
 * - Power-on values the scan lost (the manual underlines defaults): <clean_session> 1,
 *   <version_num> 1 (3.1.1), <timeout_notice> 0, <echo_mode> 1 — §6.1 shows the typed payload right
 *   after the `>` prompt without configuring echomode —, dataformat 0,0 (text). They live in the
 *   profile.
 */
import { rangeText, type Decoded, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type Outcome } from '../../../at/types.js';
import type { WillConfig } from '../qmt/client-config.js';
import type { QmtClient } from '../qmt/client.js';
import { protocolToVersion, versionToProtocol, type Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange, failWith, isFault, type Fault } from './errors.js';
import { checkTopic, hostText, quoted } from './text.js';

interface OptionDef {
  /** As the manual spells it. */
  name: string;
  /** Values after <TCP_connectID>; int ranges and string placeholders also render `=?`. */
  params: readonly ParamSpec[];
  /** The query reply's values, rendered; undefined prints no `+QMTCFG:` line (unset aliauth). */
  query(client: QmtClient): string[] | undefined;
  /** Store decoded values (undefined = left out); a Fault refuses the set. */
  apply(client: QmtClient, values: Decoded): Fault | void;
  /** Values are credentials: never logged. */
  secret?: boolean;
}

const flag = (name: string, optional = false): ParamSpec => ({ name, type: 'int', values: [0, 1], optional });
const int = (name: string, min: number, max: number, optional = false): ParamSpec => ({ name, type: 'int', min, max, optional });
const str = (name: string, maxLength?: number, optional = false): ParamSpec => ({ name, type: 'string', maxLength, optional });
const bit = (b: boolean): string => (b ? '1' : '0');
const disabledWill = (): WillConfig => ({ enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) });

function optionDefs(q: Bc260yContext): OptionDef[] {
  const d = q.data;
  return [
    {
      name: 'will',
      params: [flag('will_fg'), int('will_qos', 0, 2, true), flag('will_retain', true), str('will_topic', d.willTopicMax, true), str('will_msg', d.willMessageMax, true)],
      query: ({ config: { will: w } }) =>
        w.enabled ? ['1', String(w.qos), bit(w.retain), quoted(w.topic), `"${w.message.toString('latin1')}"`] : ['0'],
      apply: (cl, [fg, qos, retain, topic, msg]) => {
        if (fg === 0) {
          cl.config.will = disabledWill();
          return;
        }
        if (qos === undefined || retain === undefined || topic === undefined || msg === undefined) {
          return { cause: 'invalidParameter', reason: '<will_fg>=1 needs <will_qos>,<will_retain>,<will_topic>,<will_msg> (note 1)' };
        }
        const t = checkTopic(q, topic as string, 'name', 'will_topic');
        if (isFault(t)) return t;
        cl.config.will = { enabled: true, qos: qos as 0 | 1 | 2, retain: retain === 1, topic: t, message: Buffer.from(msg as string, 'latin1') };
      },
    },
    {
      name: 'timeout',
      params: [int('pkttimeout', 1, 60, true), int('retry_times', 0, 10, true), flag('timeout_notice', true)],
      query: ({ config: { timeout: t } }) => [String(t.pktTimeout), String(t.retryTimes), bit(t.timeoutNotice)],
      apply: (cl, [pkt, retry, notice]) => {
        const t = cl.config.timeout;
        cl.config.timeout = {
          pktTimeout: (pkt as number | undefined) ?? t.pktTimeout,
          retryTimes: (retry as number | undefined) ?? t.retryTimes,
          timeoutNotice: notice === undefined ? t.timeoutNotice : notice === 1,
        };
      },
    },
    {
      name: 'session',
      params: [flag('clean_session')],
      query: (cl) => [bit(cl.config.cleanSession)],
      apply: (cl, [clean]) => void (cl.config.cleanSession = clean === 1),
    },
    {
      name: 'keepalive',
      params: [int('keep-alive_time', 0, 3600)],
      query: (cl) => [String(cl.config.keepalive)],
      apply: (cl, [t]) => void (cl.config.keepalive = t as number),
    },
    {
      name: 'aliauth',
      secret: true,
      params: [str('product_key'), str('device_name'), str('device_secret')],
      query: ({ config: { aliauth: a } }) => (a ? [quoted(a.productKey), quoted(a.deviceName), quoted(a.deviceSecret)] : undefined),
      apply: (cl, values) => {
        const texts: string[] = [];
        for (const [i, v] of values.entries()) {
          const t = hostText(v as string, ['product_key', 'device_name', 'device_secret'][i]!);
          if (isFault(t)) return t;
          texts.push(t);
        }
        const [productKey, deviceName, deviceSecret] = texts as [string, string, string];
        if (texts.every((t) => t === '')) delete cl.config.aliauth;
        else cl.config.aliauth = { productKey, deviceName, deviceSecret };
      },
    },
    {
      name: 'version',
      params: [flag('version_num')],
      query: (cl) => [String(protocolToVersion(cl.config.version))],
      apply: (cl, [v]) => void (cl.config.version = versionToProtocol(v as number)),
    },
    {
      name: 'showrecvlen',
      params: [flag('show_flag')],
      query: (cl) => [String(cl.config.recv.lenEnable)],
      apply: (cl, [f]) => void (cl.config.recv = { ...cl.config.recv, lenEnable: f as 0 | 1 }),
    },
    {
      name: 'echomode',
      params: [flag('echo_mode')],
      query: (cl) => [String(cl.config.viewMode)],
      apply: (cl, [m]) => void (cl.config.viewMode = m as 0 | 1),
    },
    {
      name: 'dataformat',
      params: [flag('send_format'), flag('recv_format')],
      query: ({ config: { dataformat: f } }) => [String(f.send), String(f.recv)],
      apply: (cl, [send, recv]) => {
        cl.config.dataformat = { send: send as 0 | 1, recv: recv as 0 | 1 };
        cl.config.sendMode = send as 0 | 1;
      },
    },
  ];
}

export function qmtcfgCommand(q: Bc260yContext): CommandDef {
  const options = optionDefs(q);
  const byName = new Map(options.map((o) => [o.name, o]));
  const log = q.device.log.child({ component: 'qmt' });

  // §3.3.1 test command: ranges in parentheses, strings as their <name> (the §6.1 style).
  const testLines = options.map(
    (o) => `+QMTCFG: "${o.name}",${connectIdRange(q)},${o.params.map((p) => (p.type === 'int' ? rangeText(p) : `<${p.name}>`)).join(',')}`,
  );

  function query(ctx: CommandContext, o: OptionDef): Outcome | Promise<Outcome> {
    return bcArgs(q, ctx, [connectIdParam(q)], ([idx]) => {
      const values = o.query(q.client(idx as number));
      return values ? ok(`+QMTCFG: ${values.join(',')}`) : ok();
    });
  }

  function set(ctx: CommandContext, o: OptionDef): Outcome | Promise<Outcome> {
    return bcArgs(q, ctx, [connectIdParam(q), ...o.params], ([idx, ...values]) => {
      if (values.every((v) => v === undefined)) return failWith(q, 'invalidParameter', `"${o.name}": no value given`);
      const client = q.client(idx as number);
      const fault = o.apply(client, values);
      if (fault) return failWith(q, fault.cause, fault.reason);
      log.debug({ client: client.idx, option: o.name, ...(o.secret ? {} : { values }) }, 'config set');
      return ok();
    });
  }

  return {
    name: '+QMTCFG',
    sensitive: true,
    test: () => ok(...testLines),
    set: (ctx) => {
      const [nameArg, ...rest] = ctx.args;
      if (nameArg?.kind !== 'string') return failWith(q, 'invalidParameter', '<option> must be a quoted string');
      const o = byName.get(nameArg.value.toLowerCase());
      if (!o) return failWith(q, 'invalidParameter', `unknown option "${nameArg.value}"`);
      const sub: CommandContext = { ...ctx, args: rest };
      // `"<option>",<TCP_connectID>` queries; anything more is a set.
      return rest.length <= 1 ? query(sub, o) : set(sub, o);
    },
  };
}
