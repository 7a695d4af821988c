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
import { rangeText, type DecodedOf, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type Outcome } from '../../../at/types.js';
import { flagParam as flag, intParam as int, stringParam as str, oneOf, optional, withIndexedArgs } from '../../common/decode.js';
import type { WillConfig } from '../qmt/client-config.js';
import type { QmtClient } from '../qmt/client.js';
import { protocolToVersion, versionToProtocol, type Bc260yContext } from './data.js';
import { bcArgs, connectIdParam, connectIdRange, failWith, invalidParameter, isFault, type Fault } from './errors.js';
import { checkTopic, hostText, quoted } from './text.js';

interface OptionDef<Ps extends readonly ParamSpec[]> {
  /** As the manual spells it. */
  name: string;
  /** Values after <TCP_connectID>; int ranges and string placeholders also render `=?`. */
  params: Ps;
  /** The query reply's values, rendered; undefined prints no `+QMTCFG:` line (unset aliauth). */
  query(client: QmtClient): string[] | undefined;
  /** Store decoded values (undefined = left out); a Fault refuses the set. */
  apply(client: QmtClient, values: DecodedOf<Ps>): Fault | void;
  /** Values are credentials: never logged. */
  secret?: boolean;
}

/** The result of decoding a set line: the connect id, the values, how to store them. */
interface DecodedSet {
  idx: number;
  values: readonly unknown[];
  apply(client: QmtClient): Fault | void;
}

/** An option with its value types sealed inside `decode`, so that all options fit one table. */
interface Option extends Omit<OptionDef<readonly ParamSpec[]>, 'apply'> {
  /** Decode `<TCP_connectID>,<values…>` (8507 on any problem) and hand the result to `run`. */
  decode(q: Bc260yContext, ctx: CommandContext, run: (set: DecodedSet) => Outcome | Promise<Outcome>): Outcome | Promise<Outcome>;
}

/** Written in place, `params` types `apply`'s values (see DecodedOf). */
function option<const Ps extends readonly ParamSpec[]>(def: OptionDef<Ps>): Option {
  const { apply, ...rest } = def;
  return {
    ...rest,
    decode: (q, ctx, run) =>
      withIndexedArgs(
        ctx,
        connectIdParam(q),
        def.params,
        (idx, values) => run({ idx, values, apply: (client) => apply(client, values) }),
        invalidParameter(q),
      ),
  };
}

const bit = (b: boolean): string => (b ? '1' : '0');
const disabledWill = (): WillConfig => ({ enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) });

function optionDefs(q: Bc260yContext): Option[] {
  const d = q.data;
  return [
    option({
      name: 'will',
      params: [
        flag('will_fg'),
        optional(int('will_qos', 0, 2)),
        optional(flag('will_retain')),
        optional(str('will_topic', d.willTopicMax)),
        optional(str('will_msg', d.willMessageMax)),
      ],
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
        const t = checkTopic(q, topic, 'name', 'will_topic');
        if (isFault(t)) return t;
        cl.config.will = { enabled: true, qos: oneOf(qos, [0, 1, 2]), retain: retain === 1, topic: t, message: Buffer.from(msg, 'latin1') };
      },
    }),
    option({
      name: 'timeout',
      params: [optional(int('pkttimeout', 1, 60)), optional(int('retry_times', 0, 10)), optional(flag('timeout_notice'))],
      query: ({ config: { timeout: t } }) => [String(t.pktTimeout), String(t.retryTimes), bit(t.timeoutNotice)],
      apply: (cl, [pkt, retry, notice]) => {
        const t = cl.config.timeout;
        cl.config.timeout = {
          pktTimeout: pkt ?? t.pktTimeout,
          retryTimes: retry ?? t.retryTimes,
          timeoutNotice: notice === undefined ? t.timeoutNotice : notice === 1,
        };
      },
    }),
    option({
      name: 'session',
      params: [flag('clean_session')],
      query: (cl) => [bit(cl.config.cleanSession)],
      apply: (cl, [clean]) => void (cl.config.cleanSession = clean === 1),
    }),
    option({
      name: 'keepalive',
      params: [int('keep-alive_time', 0, 3600)],
      query: (cl) => [String(cl.config.keepalive)],
      apply: (cl, [t]) => void (cl.config.keepalive = t),
    }),
    option({
      name: 'aliauth',
      secret: true,
      params: [str('product_key'), str('device_name'), str('device_secret')],
      query: ({ config: { aliauth: a } }) => (a ? [quoted(a.productKey), quoted(a.deviceName), quoted(a.deviceSecret)] : undefined),
      apply: (cl, [pk, dn, ds]) => {
        const productKey = hostText(pk, 'product_key');
        if (isFault(productKey)) return productKey;
        const deviceName = hostText(dn, 'device_name');
        if (isFault(deviceName)) return deviceName;
        const deviceSecret = hostText(ds, 'device_secret');
        if (isFault(deviceSecret)) return deviceSecret;
        if (productKey === '' && deviceName === '' && deviceSecret === '') delete cl.config.aliauth;
        else cl.config.aliauth = { productKey, deviceName, deviceSecret };
      },
    }),
    option({
      name: 'version',
      params: [flag('version_num')],
      query: (cl) => [String(protocolToVersion(cl.config.version))],
      apply: (cl, [v]) => void (cl.config.version = versionToProtocol(v)),
    }),
    option({
      name: 'showrecvlen',
      params: [flag('show_flag')],
      query: (cl) => [String(cl.config.recv.lenEnable)],
      apply: (cl, [f]) => void (cl.config.recv = { ...cl.config.recv, lenEnable: f }),
    }),
    option({
      name: 'echomode',
      params: [flag('echo_mode')],
      query: (cl) => [String(cl.config.viewMode)],
      apply: (cl, [m]) => void (cl.config.viewMode = m),
    }),
    option({
      name: 'dataformat',
      params: [flag('send_format'), flag('recv_format')],
      query: ({ config: { dataformat: f } }) => [String(f.send), String(f.recv)],
      apply: (cl, [send, recv]) => {
        cl.config.dataformat = { send, recv };
        cl.config.sendMode = send;
      },
    }),
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

  function query(ctx: CommandContext, o: Option): Outcome | Promise<Outcome> {
    return bcArgs(q, ctx, [connectIdParam(q)], ([idx]) => {
      const values = o.query(q.client(idx));
      return values ? ok(`+QMTCFG: ${values.join(',')}`) : ok();
    });
  }

  function set(ctx: CommandContext, o: Option): Outcome | Promise<Outcome> {
    return o.decode(q, ctx, ({ idx, values, apply }) => {
      if (values.every((v) => v === undefined)) return failWith(q, 'invalidParameter', `"${o.name}": no value given`);
      const client = q.client(idx);
      const fault = apply(client);
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
      // Any case: drivers send "KEEPALIVE" and "SSL" (issue 10 §2; the profile's notes).
      const o = byName.get(nameArg.value.toLowerCase());
      if (!o) return failWith(q, 'invalidParameter', `unknown option "${nameArg.value}"`);
      const sub: CommandContext = { ...ctx, args: rest };
      // `"<option>",<TCP_connectID>` queries; anything more is a set.
      return rest.length <= 1 ? query(sub, o) : set(sub, o);
    },
  };
}
