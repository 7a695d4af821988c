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
import { rangeText, type Decoded, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type DataEnd, type Outcome } from '../../../at/types.js';
import { clientIdxParam, clientRange, fail, qmtArgs } from './args.js';
import type { QmtClientConfig, WillConfig } from './client-config.js';
import type { QmtClient } from './client.js';
import type { QmtContext } from './context.js';

/** <willtopic> 1–256 bytes, <willmessage> and <will_len> 0–256 (§3.3.1 parameters). */
const WILL_TOPIC_MAX = 256;
const WILL_MESSAGE_MAX = 256;

/** One option of AT+QMTCFG: its values after <client_idx>, how it reads back, how it is set. */
interface OptionDef {
  /** As the manual spells it (lower case). */
  name: string;
  /**
   * The set-form values. The first is always present in a set (without it the line is a query);
   * the others are optional only where the manual brackets them. Ranges also render `=?`.
   */
  params: readonly ParamSpec[];
  /** The values of the query reply, already rendered (`4`, `"topic"`). */
  query(cfg: QmtClientConfig): string[];
  /** Store decoded values; a string is a refusal reason. May answer with a prompt (willex). */
  apply(client: QmtClient, values: Decoded): Outcome | string | void;
  /** Accepted while an MQTT connection exists (only "willex"). */
  whileConnected?: boolean;
  /** Values are credentials: never logged. */
  secret?: boolean;
}

const int = (name: string, min: number, max: number, optional = false): ParamSpec => ({ name, type: 'int', min, max, optional });
const flag = (name: string, optional = false): ParamSpec => ({ name, type: 'int', values: [0, 1], optional });
const str = (name: string, maxLength?: number, minLength?: number, optional = false): ParamSpec => ({
  name,
  type: 'string',
  minLength,
  maxLength,
  optional,
});
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

/** Decode every string value as UTF-8; undefined if one is not. */
function texts(values: Decoded): (string | undefined)[] | undefined {
  const out: (string | undefined)[] = [];
  for (const v of values) {
    if (typeof v !== 'string') {
      out.push(undefined);
      continue;
    }
    const t = fromHost(v);
    if (t === undefined) return undefined;
    out.push(t);
  }
  return out;
}

/** A platform option made of strings only (aliauth, onenet, hwauth, hwprodid). */
function platformOption<K extends 'aliauth' | 'onenet' | 'hwauth' | 'hwprodid'>(
  name: K,
  labels: readonly string[],
  fields: readonly (keyof NonNullable<QmtClientConfig[K]>)[],
): OptionDef {
  return {
    name,
    secret: true,
    params: labels.map((l) => str(l)),
    query: (cfg) => {
      const rec = cfg[name] as Record<string, string> | undefined;
      return fields.map((f) => quoted(rec?.[f as string] ?? ''));
    },
    apply: (client, values) => {
      const t = texts(values);
      if (!t) return `<${name}> values are not UTF-8`;
      if (t.every((s) => s === '')) {
        delete client.config[name];
        return;
      }
      const rec: Record<string, string> = {};
      fields.forEach((f, i) => (rec[f as string] = t[i]!));
      client.config[name] = rec as unknown as QmtClientConfig[K];
    },
  };
}

const disabledWill = (): WillConfig => ({ enabled: false, qos: 0, retain: false, topic: '', message: Buffer.alloc(0) });

function willHead(w: WillConfig): string[] {
  return w.enabled ? ['1', String(w.qos), bit(w.retain), quoted(w.topic)] : ['0'];
}

/** The will parameters common to "will" and "willex" when <will_fg> is 1; a string on error. */
function willBase(values: Decoded, what: string): Omit<WillConfig, 'message'> | string {
  const [, qos, retain, topic, last] = values;
  if (qos === undefined || retain === undefined || topic === undefined || last === undefined) {
    return `<will_fg>=1 needs <will_qos>,<will_retain>,<willtopic>,<${what}>`;
  }
  const t = fromHost(topic as string);
  if (t === undefined) return '<willtopic> is not UTF-8';
  return { enabled: true, qos: qos as 0 | 1 | 2, retain: retain === 1, topic: t };
}

function optionDefs(q: QmtContext): OptionDef[] {
  return [
    {
      name: 'version',
      params: [{ name: 'vsn', type: 'int', values: [3, 4] }],
      query: (c) => [String(c.version)],
      apply: (cl, [vsn]) => void (cl.config.version = vsn as 3 | 4),
    },
    {
      name: 'pdpcid',
      params: [int('cid', 1, 15)],
      query: (c) => [String(c.pdpcid)],
      apply: (cl, [cid]) => void (cl.config.pdpcid = cid as number),
    },
    {
      name: 'ssl',
      params: [flag('SSL_enable'), int('SSL_ctx_idx', 0, 5, true)],
      query: (c) => [bit(c.ssl.enabled), String(c.ssl.ctxIdx)],
      apply: (cl, [enable, ctxIdx]) => {
        cl.config.ssl = { enabled: enable === 1, ctxIdx: (ctxIdx as number | undefined) ?? cl.config.ssl.ctxIdx };
      },
    },
    {
      name: 'keepalive',
      params: [int('keep_alive_time', 0, 3600)],
      query: (c) => [String(c.keepalive)],
      apply: (cl, [t]) => void (cl.config.keepalive = t as number),
    },
    {
      name: 'session',
      params: [flag('clean_session')],
      query: (c) => [bit(c.cleanSession)],
      apply: (cl, [clean]) => void (cl.config.cleanSession = clean === 1),
    },
    {
      name: 'timeout',
      params: [int('pkt_timeout', 1, 60), int('retry_times', 0, 10), flag('timeout_notice')],
      query: (c) => [String(c.timeout.pktTimeout), String(c.timeout.retryTimes), bit(c.timeout.timeoutNotice)],
      apply: (cl, [pkt, retry, notice]) => {
        cl.config.timeout = { pktTimeout: pkt as number, retryTimes: retry as number, timeoutNotice: notice === 1 };
      },
    },
    {
      name: 'will',
      params: [
        flag('will_fg'),
        int('will_qos', 0, 2, true),
        flag('will_retain', true),
        str('willtopic', WILL_TOPIC_MAX, 1, true),
        str('willmessage', WILL_MESSAGE_MAX, 0, true),
      ],
      query: (c) => (c.will.enabled ? [...willHead(c.will), `"${c.will.message.toString('latin1')}"`] : ['0']),
      apply: (cl, values) => {
        if (values[0] === 0) {
          cl.config.will = disabledWill();
          return;
        }
        const base = willBase(values, 'willmessage');
        if (typeof base === 'string') return base;
        // The message is payload, not text: its bytes go out as typed.
        cl.config.will = { ...base, message: Buffer.from(values[4] as string, 'latin1') };
      },
    },
    {
      name: 'willex',
      whileConnected: true,
      params: [
        flag('will_fg'),
        int('will_qos', 0, 2, true),
        flag('will_retain', true),
        str('willtopic', WILL_TOPIC_MAX, 1, true),
        int('will_len', 0, WILL_MESSAGE_MAX, true),
      ],
      query: (c) => (c.willex.enabled ? [...willHead(c.willex), String(c.willex.message.length)] : ['0']),
      apply: (cl, values) => {
        if (values[0] === 0) {
          cl.config.willex = disabledWill();
          return;
        }
        const base = willBase(values, 'will_len');
        if (typeof base === 'string') return base;
        const edit = cl.config.editTimeout;
        return {
          type: 'prompt',
          spec: {
            mode: 'fixed',
            // "若数据长度大于<will_len>，则发送前面长度等于<will_len>的数据": the engine stops at
            // <will_len> bytes and hands the rest back to the command parser.
            length: values[4] as number,
            idleTimeoutMs: edit.enabled ? edit.seconds * 1000 : q.data.dataIdleTimeoutMs,
            echo: cl.config.viewMode === 1,
          },
          onData: (end: DataEnd): Outcome => {
            if (end.kind !== 'complete') return fail(`will message input ${end.kind}`);
            cl.config.willex = { ...base, message: Buffer.from(end.payload) };
            return ok();
          },
        };
      },
    },
    {
      name: 'recv/mode',
      params: [flag('msg_rcv_mode'), flag('msg_len_enable', true)],
      query: (c) => [String(c.recv.mode), String(c.recv.lenEnable)],
      apply: (cl, [mode, lenEnable]) => {
        cl.config.recv = { mode: mode as 0 | 1, lenEnable: (lenEnable as 0 | 1 | undefined) ?? cl.config.recv.lenEnable };
      },
    },
    platformOption('aliauth', ['product key', 'device name', 'device secret'], ['productKey', 'deviceName', 'deviceSecret']),
    {
      name: 'qmtping',
      params: [int('qmtping_interval', 5, 60)],
      query: (c) => [String(c.qmtping)],
      apply: (cl, [s]) => void (cl.config.qmtping = s as number),
    },
    {
      name: 'send/mode',
      params: [flag('send_mode')],
      query: (c) => [String(c.sendMode)],
      apply: (cl, [mode]) => {
        cl.config.sendMode = mode as 0 | 1;
        cl.config.dataformat = { ...cl.config.dataformat, send: mode as 0 | 1 };
      },
    },
    platformOption('onenet', ['product id', 'access key'], ['productId', 'accessKey']),
    platformOption('hwauth', ['product id', 'device secret'], ['productId', 'deviceSecret']),
    platformOption('hwprodid', ['product id', 'product secret', 'nodeid'], ['productId', 'productSecret', 'nodeId']),
    {
      name: 'dataformat',
      params: [flag('send_mode'), flag('recv_mode')],
      query: (c) => [String(c.dataformat.send), String(c.dataformat.recv)],
      apply: (cl, [send, recv]) => {
        cl.config.dataformat = { send: send as 0 | 1, recv: recv as 0 | 1 };
        cl.config.sendMode = send as 0 | 1;
      },
    },
    {
      name: 'view/mode',
      params: [flag('view_mode')],
      query: (c) => [String(c.viewMode)],
      apply: (cl, [mode]) => void (cl.config.viewMode = mode as 0 | 1),
    },
    {
      name: 'edit/timeout',
      params: [flag('edit_mode'), int('edit_time', 1, 120, true)],
      query: (c) => [bit(c.editTimeout.enabled), String(c.editTimeout.seconds)],
      apply: (cl, [mode, seconds]) => {
        cl.config.editTimeout = { enabled: mode === 1, seconds: (seconds as number | undefined) ?? cl.config.editTimeout.seconds };
      },
    },
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

  function query(ctx: CommandContext, o: OptionDef): Outcome | Promise<Outcome> {
    return qmtArgs(ctx, [clientIdxParam(q)], ([idx]) =>
      ok(`+QMTCFG: "${o.name}",${o.query(q.client(idx as number).config).join(',')}`),
    );
  }

  function set(ctx: CommandContext, o: OptionDef): Outcome | Promise<Outcome> {
    return qmtArgs(ctx, [clientIdxParam(q), ...o.params], ([idx, ...values]) => {
      const client = q.client(idx as number);
      if (client.mqttActive && !o.whileConnected) return fail(`client ${client.idx} is ${client.state}: "${o.name}" cannot change`);
      const r = o.apply(client, values);
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
      const o = byName.get(nameArg.value.toLowerCase());
      if (!o) return fail(`unknown option "${nameArg.value}"`);
      const sub: CommandContext = { ...ctx, args: rest };
      // `"<option>",<client_idx>` queries; anything more (even an empty value) is a set.
      return rest.length <= 1 ? query(sub, o) : set(sub, o);
    },
  };
}
