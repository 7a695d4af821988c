/**
 * AT+QMTCFG — configure optional parameters of MQTT (EC200 manual §3.3.1, "AT+QMTCFG 配置 MQTT 可选参数").
 *   AT+QMTCFG=?                              → one `+QMTCFG: "<option>",(0-5),…` line per option, OK
 *   AT+QMTCFG="<option>",<client_idx>        → +QMTCFG: "<option>",<values…>, OK   (query)
 *   AT+QMTCFG="<option>",<client_idx>,<v…>   → OK                                 (set)
 *   AT+QMTCFG="willex",<idx>,1,<qos>,<retain>,"<topic>",<will_len> → "> ", exactly <will_len> bytes, OK
 * Any error answers a plain ERROR ("若出现任何错误：ERROR"). Settings take effect at the next
 * AT+QMTOPEN / AT+QMTCONN and are not saved ("该命令立即生效；参数配置不保存").
 *
 * Where the manual is silent or cut by the scan:
 * - The option name is matched case-insensitively (§5.2 writes `"SSL"`); replies always use the
 *   manual's lower-case spelling.
 * - Values given after `<client_idx>` set the option only while no MQTT connection exists ("若指定
 *   可选参数且 MQTT 连接未创建"): from AT+QMTCONN until the session ends they answer ERROR; the query
 *   form keeps working. The "willex" row carries no such condition, so it is always accepted.
 * - Optional values left out keep their previous value (§3.1.1): `"ssl"` without <SSL_ctx_idx>,
 *   `"recv/mode"` without <msg_len_enable>, `"edit/timeout"` without <edit_time>. Parameters the
 *   manual lists without brackets (timeout's three, dataformat's two, the platform strings) must
 *   all be given.
 * - `"will"`/`"willex"` with <will_fg> 0 disable the will; further values are checked but ignored
 *   (note 1: "若 <will_fg> 不为 1，以上参数会被省略"). The two options keep separate records (willex
 *   reports <will_len>); AT+QMTCONN uses "will" when both are enabled.
 * - "willex" input follows the same rules as AT+QMTPUBEX input: the idle timeout is edit/timeout's
 *   when enabled, else the profile's; view/mode 1 echoes it. dataformat does not apply: <will_len>
 *   counts the message bytes as sent.
 * - "send/mode" and dataformat's <send_mode> are one setting: setting either updates both.
 * - The platform options (aliauth, onenet, hwauth, hwprodid) print empty strings when never set;
 *   setting all their strings empty forgets them (AT+QMTCONN then needs username/password again).
 *   The query prints the secrets as the manual documents; logs never carry them. hwauth/hwprodid
 *   omit the optional <hw_time_enable> (nothing can set it).
 * - Topics and platform strings are the host's bytes read as UTF-8 (what MQTT and the platforms'
 *   HMACs use) and are printed back as the same bytes; bytes that are not UTF-8 answer ERROR.
 *   Will messages are payload: their bytes are kept as typed.
 */
import { rangeText, type DecodedOf, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { flagParam as flag, intParam as int, stringParam as str, oneOf, optional, withIndexedArgs } from '../../common/decode.js';
import { clientIdxParam, clientRange, fail, qmtArgs } from './args.js';
import type { QmtClientConfig, WillConfig } from './client-config.js';
import type { QmtClient } from './client.js';
import type { QmtContext } from './context.js';

/** <willtopic> 1–256 bytes, <willmessage> and <will_len> 0–256 (§3.3.1 parameters). */
const WILL_TOPIC_MAX = 256;
const WILL_MESSAGE_MAX = 256;

/** One option of AT+QMTCFG: its values after <client_idx>, how it reads back, how it is set. */
interface OptionDef<Ps extends readonly ParamSpec[]> {
  /** As the manual spells it (lower case). */
  name: string;
  /**
   * The set-form values. The first is always present in a set (without it the line is a query);
   * the others are optional only where the manual brackets them. Ranges also render `=?`.
   */
  params: Ps;
  /** The values of the query reply, already rendered (`4`, `"topic"`). */
  query(cfg: QmtClientConfig): string[];
  /** Store decoded values; a string is a refusal reason. May answer with a prompt (willex). */
  apply(client: QmtClient, values: DecodedOf<Ps>): Outcome | string | void;
  /** Accepted while an MQTT connection exists (only "willex"). */
  whileConnected?: boolean;
  /** Values are credentials: never logged. */
  secret?: boolean;
}

/** The result of decoding a set line: the client index, the values (for the log), how to store them. */
interface DecodedSet {
  idx: number;
  values: unknown;
  apply(client: QmtClient): Outcome | string | void;
}

/** An option with its value types sealed inside `decode`, so that all options fit one table. */
interface Option extends Omit<OptionDef<readonly ParamSpec[]>, 'apply'> {
  /** Decode `<client_idx>,<values…>` (plain ERROR on any problem) and hand the result to `run`. */
  decode(q: QmtContext, ctx: CommandContext, run: (set: DecodedSet) => Outcome | Promise<Outcome>): Outcome | Promise<Outcome>;
}

/** Written in place, `params` types `apply`'s values (see DecodedOf). */
function option<const Ps extends readonly ParamSpec[]>(def: OptionDef<Ps>): Option {
  const { apply, ...rest } = def;
  return {
    ...rest,
    decode: (q, ctx, run) =>
      withIndexedArgs(
        ctx,
        clientIdxParam(q),
        def.params,
        (idx, values) => run({ idx, values, apply: (client) => apply(client, values) }),
        fail,
      ),
  };
}

const bit = (b: boolean): string => (b ? '1' : '0');

/** Host bytes (the parser's latin1 string) as text, or undefined when they are not UTF-8. */
function fromHost(raw: string): string | undefined {
  const bytes = Buffer.from(raw, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

/** Text back to the host's bytes, quoted, in the latin1 domain the engine writes. */
function quoted(text: string): string {
  return `"${Buffer.from(text, 'utf8').toString('latin1')}"`;
}

/**
 * A platform option made of strings only (aliauth, onenet, hwauth, hwprodid): `read` lists a
 * stored record's strings in parameter order, `make` builds a record from the values as text.
 */
function platformOption<K extends 'aliauth' | 'onenet' | 'hwauth' | 'hwprodid', const Ps extends readonly ParamSpec[]>(
  name: K,
  params: Ps,
  read: (rec: NonNullable<QmtClientConfig[K]>) => string[],
  make: (text: (raw: string) => string, values: DecodedOf<Ps>) => NonNullable<QmtClientConfig[K]>,
): Option {
  return option({
    name,
    secret: true,
    params,
    query: (cfg) => {
      const rec = cfg[name];
      return rec ? read(rec).map(quoted) : params.map(() => quoted(''));
    },
    apply: (client, values) => {
      const raws = values.filter((v) => typeof v === 'string');
      const texts = raws.map(fromHost);
      if (texts.some((t) => t === undefined)) return `<${name}> values are not UTF-8`;
      if (texts.every((t) => t === '')) {
        delete client.config[name];
        return;
      }
      client.config[name] = make((raw) => fromHost(raw) ?? raw, values);
    },
  });
}

const disabledWill = (): WillConfig => ({ enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) });

function willHead(w: WillConfig): string[] {
  return w.enabled ? ['1', String(w.qos), bit(w.retain), quoted(w.topic)] : ['0'];
}

/**
 * The will parameters common to "will" and "willex" when <will_fg> is 1, with the last one
 * (<willmessage> or <will_len>); a string on error.
 */
function willBase<L>(
  values: readonly [unknown, number | undefined, number | undefined, string | undefined, L | undefined],
  what: string,
): { base: Omit<WillConfig, 'message'>; last: L } | string {
  const [, qos, retain, topic, last] = values;
  if (qos === undefined || retain === undefined || topic === undefined || last === undefined) {
    return `<will_fg>=1 needs <will_qos>,<will_retain>,<willtopic>,<${what}>`;
  }
  const t = fromHost(topic);
  if (t === undefined) return '<willtopic> is not UTF-8';
  return { base: { enabled: true, qos: oneOf(qos, [0, 1, 2]), retain: retain === 1, topic: t }, last };
}

function optionDefs(q: QmtContext): Option[] {
  return [
    option({
      name: 'version',
      params: [{ name: 'vsn', type: 'int', values: [3, 4] }],
      query: (c) => [String(c.version)],
      apply: (cl, [vsn]) => void (cl.config.version = vsn),
    }),
    option({
      name: 'pdpcid',
      params: [int('cid', 1, 15)],
      query: (c) => [String(c.pdpcid)],
      apply: (cl, [cid]) => void (cl.config.pdpcid = cid),
    }),
    option({
      name: 'ssl',
      params: [flag('SSL_enable'), optional(int('SSL_ctx_idx', 0, 5))],
      query: (c) => [bit(c.ssl.enabled), String(c.ssl.ctxIdx)],
      apply: (cl, [enable, ctxIdx]) => {
        cl.config.ssl = { enabled: enable === 1, ctxIdx: ctxIdx ?? cl.config.ssl.ctxIdx };
      },
    }),
    option({
      name: 'keepalive',
      params: [int('keep_alive_time', 0, 3600)],
      query: (c) => [String(c.keepalive)],
      apply: (cl, [t]) => void (cl.config.keepalive = t),
    }),
    option({
      name: 'session',
      params: [flag('clean_session')],
      query: (c) => [bit(c.cleanSession)],
      apply: (cl, [clean]) => void (cl.config.cleanSession = clean === 1),
    }),
    option({
      name: 'timeout',
      params: [int('pkt_timeout', 1, 60), int('retry_times', 0, 10), flag('timeout_notice')],
      query: (c) => [String(c.timeout.pktTimeout), String(c.timeout.retryTimes), bit(c.timeout.timeoutNotice)],
      apply: (cl, [pkt, retry, notice]) => {
        cl.config.timeout = { pktTimeout: pkt, retryTimes: retry, timeoutNotice: notice === 1 };
      },
    }),
    option({
      name: 'will',
      params: [
        flag('will_fg'),
        optional(int('will_qos', 0, 2)),
        optional(flag('will_retain')),
        optional(str('willtopic', WILL_TOPIC_MAX, 1)),
        optional(str('willmessage', WILL_MESSAGE_MAX, 0)),
      ],
      query: (c) => (c.will.enabled ? [...willHead(c.will), `"${c.will.message.toString('latin1')}"`] : ['0']),
      apply: (cl, values) => {
        if (values[0] === 0) {
          cl.config.will = disabledWill();
          return;
        }
        const w = willBase(values, 'willmessage');
        if (typeof w === 'string') return w;
        // The message is payload, not text: its bytes go out as typed.
        cl.config.will = { ...w.base, message: Buffer.from(w.last, 'latin1') };
      },
    }),
    option({
      name: 'willex',
      whileConnected: true,
      params: [
        flag('will_fg'),
        optional(int('will_qos', 0, 2)),
        optional(flag('will_retain')),
        optional(str('willtopic', WILL_TOPIC_MAX, 1)),
        optional(int('will_len', 0, WILL_MESSAGE_MAX)),
      ],
      query: (c) => (c.willex.enabled ? [...willHead(c.willex), String(c.willex.message.length)] : ['0']),
      apply: (cl, values) => {
        if (values[0] === 0) {
          cl.config.willex = disabledWill();
          return;
        }
        const w = willBase(values, 'will_len');
        if (typeof w === 'string') return w;
        const edit = cl.config.editTimeout;
        return {
          type: 'prompt',
          spec: {
            mode: 'fixed',
            // "若数据长度大于<will_len>，则发送前面长度等于<will_len>的数据": the engine stops at
            // <will_len> bytes and hands the rest back to the command parser.
            length: w.last,
            idleTimeoutMs: edit.enabled ? edit.seconds * 1000 : q.data.dataIdleTimeoutMs,
            echo: cl.config.viewMode === 1,
          },
          onData: (end: DataEnd): Outcome => {
            if (end.kind !== 'complete') return fail(`will message input ${end.kind}`);
            cl.config.willex = { ...w.base, message: Buffer.from(end.payload) };
            return ok();
          },
        };
      },
    }),
    option({
      name: 'recv/mode',
      params: [flag('msg_rcv_mode'), optional(flag('msg_len_enable'))],
      query: (c) => [String(c.recv.mode), String(c.recv.lenEnable)],
      apply: (cl, [mode, lenEnable]) => {
        cl.config.recv = { mode, lenEnable: lenEnable ?? cl.config.recv.lenEnable };
      },
    }),
    platformOption(
      'aliauth',
      [str('product key'), str('device name'), str('device secret')],
      (r) => [r.productKey, r.deviceName, r.deviceSecret],
      (text, [productKey, deviceName, deviceSecret]) => ({
        productKey: text(productKey),
        deviceName: text(deviceName),
        deviceSecret: text(deviceSecret),
      }),
    ),
    option({
      name: 'qmtping',
      params: [int('qmtping_interval', 5, 60)],
      query: (c) => [String(c.qmtping)],
      apply: (cl, [s]) => void (cl.config.qmtping = s),
    }),
    option({
      name: 'send/mode',
      params: [flag('send_mode')],
      query: (c) => [String(c.sendMode)],
      apply: (cl, [mode]) => {
        cl.config.sendMode = mode;
        cl.config.dataformat = { ...cl.config.dataformat, send: mode };
      },
    }),
    platformOption(
      'onenet',
      [str('product id'), str('access key')],
      (r) => [r.productId, r.accessKey],
      (text, [productId, accessKey]) => ({ productId: text(productId), accessKey: text(accessKey) }),
    ),
    platformOption(
      'hwauth',
      [str('product id'), str('device secret')],
      (r) => [r.productId, r.deviceSecret],
      (text, [productId, deviceSecret]) => ({ productId: text(productId), deviceSecret: text(deviceSecret) }),
    ),
    platformOption(
      'hwprodid',
      [str('product id'), str('product secret'), str('nodeid')],
      (r) => [r.productId, r.productSecret, r.nodeId],
      (text, [productId, productSecret, nodeId]) => ({
        productId: text(productId),
        productSecret: text(productSecret),
        nodeId: text(nodeId),
      }),
    ),
    option({
      name: 'dataformat',
      params: [flag('send_mode'), flag('recv_mode')],
      query: (c) => [String(c.dataformat.send), String(c.dataformat.recv)],
      apply: (cl, [send, recv]) => {
        cl.config.dataformat = { send, recv };
        cl.config.sendMode = send;
      },
    }),
    option({
      name: 'view/mode',
      params: [flag('view_mode')],
      query: (c) => [String(c.viewMode)],
      apply: (cl, [mode]) => void (cl.config.viewMode = mode),
    }),
    option({
      name: 'edit/timeout',
      params: [flag('edit_mode'), optional(int('edit_time', 1, 120))],
      query: (c) => [bit(c.editTimeout.enabled), String(c.editTimeout.seconds)],
      apply: (cl, [mode, seconds]) => {
        cl.config.editTimeout = { enabled: mode === 1, seconds: seconds ?? cl.config.editTimeout.seconds };
      },
    }),
  ];
}

export function qmtcfgCommand(q: QmtContext): CommandDef {
  const options = optionDefs(q);
  const byName = new Map(options.map((o) => [o.name, o]));
  const log = q.device.log.child({ component: 'qmt' });

  const testLines = options.map(
    (o) =>
      `+QMTCFG: "${o.name}",${clientRange(q)},${o.params
        .map((p) => (p.type === 'int' ? rangeText(p) : `"${p.name}"`))
        .join(',')}`,
  );

  function query(ctx: CommandContext, o: Option): Outcome | Promise<Outcome> {
    return qmtArgs(ctx, [clientIdxParam(q)], ([idx]) => ok(`+QMTCFG: "${o.name}",${o.query(q.client(idx).config).join(',')}`));
  }

  function set(ctx: CommandContext, o: Option): Outcome | Promise<Outcome> {
    return o.decode(q, ctx, ({ idx, values, apply }) => {
      const client = q.client(idx);
      if (client.mqttActive && !o.whileConnected) return fail(`client ${client.idx} is ${client.state}: "${o.name}" cannot change`);
      const r = apply(client);
      if (typeof r === 'string') return fail(r);
      log.debug({ client: client.idx, option: o.name, ...(o.secret ? {} : { values }) }, r ? 'config input' : 'config set');
      return r ?? ok();
    });
  }

  return {
    name: '+QMTCFG',
    sensitive: true,
    test: () => ok(...testLines),
    set: (ctx) => {
      const [nameArg, ...rest] = ctx.args;
      if (nameArg?.kind !== 'string') return fail('<option> must be a quoted string');
      // Any case: drivers send "KEEPALIVE" and "SSL" (issue 10 §2; the profile's notes).
      const o = byName.get(nameArg.value.toLowerCase());
      if (!o) return fail(`unknown option "${nameArg.value}"`);
      const sub: CommandContext = { ...ctx, args: rest };
      // `"<option>",<client_idx>` queries; anything more (even an empty value) is a set.
      return rest.length <= 1 ? query(sub, o) : set(sub, o);
    },
  };
}
