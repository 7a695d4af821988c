/**
 * AT+MQTTCFG — configure connection parameters (OneMO MQTT manual §3.1, "AT+MQTTCFG 配置连接参数").
 *   AT+MQTTCFG=?                              → one `+MQTTCFG: "<option>",(0-5),…` line per option, OK
 *   AT+MQTTCFG="<option>",<connect_id>        → +MQTTCFG: "<option>",<values…>, OK   (query)
 *   AT+MQTTCFG="<option>",<connect_id>,<v…>   → OK                                 (set)
 *   AT+MQTTCFG="query",<connect_id>           → every option's query line, OK
 * Options: version, cid, ssl, keepalive, clean, retrans, willoption, willpayload, pingreq,
 * pingresp, encoding, cached, reconn. Errors: +CME ERROR: <err> (§5). "模组掉电后配置参数不保存".
 *
 * Where the manual is silent or cut by the scan:
 * - The manual's only reply example prints no space after the commas (`+MQTTCFG: "encoding",0,0`);
 *   all replies follow it (the syntax tables' `", <version>"` spacing is typesetting).
 * - Ten options are set only "若指定可选参数且MQTT连接未创建": while connecting or reconnecting they
 *   answer 603 (正在连接), while connected 604 (已经连接). "pingresp", "encoding" and "cached" carry
 *   no such condition ("设置完成后立即生效") and are accepted at any time.
 * - Optional values left out keep their previous value ("ssl" without <ssl_id>, "retrans" without
 *   <retry_times>, "willoption"/"reconn"/"encoding" with fewer values).
 * - <version>: only 4 is accepted on this module (note 3, "当前仅支持<version>=4"); the profile
 *   lists the accepted values.
 * - <keepalive_time> is 0 or 60–65535; 1–59 are refused (601).
 * - "willpayload" needs both <will_topic> and <will_msg> (they are bracketed together). <will_msg>
 *   is converted by the "encoding" <input_format> in force when it is set ("<will_msg>输入格式解析受
 *   "encoding"配置影响"); its 0–256 byte limit applies after conversion. The query prints both as
 *   typed; with no topic set it prints `+MQTTCFG: "willpayload"` (the brackets of the "query"
 *   list). The will goes into CONNECT when <will_flag> is 1 and a topic is set.
 * - The option name is matched case-insensitively; replies use the manual's lower case.
 */
import { rangeText, type DecodedOf, type ParamSpec } from '../../../at/decode-args.js';
import { ok, type CommandContext, type CommandDef, type Outcome } from '../../../at/types.js';
import { flagParam as flag, intParam as int, oneOf, optional, withIndexedArgs } from '../../common/decode.js';
import { connectIdParam, connectIdRange, mqttArgs, textFromAt } from './args.js';
import type { OneMoClientConfig } from './client-config.js';
import type { OneMoClient } from './client.js';
import type { OneMoContext } from './context.js';
import { decodeInput } from './encoding.js';
import { badParam, fail, MQTT_ERR } from './errors.js';

interface OptionDef<Ps extends readonly ParamSpec[]> {
  /** As the manual spells it. */
  name: string;
  /** Values after <connect_id>; the first is present in every set. */
  params: Ps;
  /** Ranges for the test form when they are not plain ranges (keepalive's "0 or 60–65535"). */
  testText?: string;
  /** Values of the query reply, rendered; empty = the bare `+MQTTCFG: "<option>"`. */
  query(cfg: OneMoClientConfig): string[];
  /** Store decoded values; a string is the reason for refusing them (601). */
  apply(client: OneMoClient, values: DecodedOf<Ps>): string | void;
  /** May be set while a connection exists. */
  anyTime?: boolean;
}

/** The result of decoding a set line: the connect id, the values (for the log), how to store them. */
interface DecodedSet {
  id: number;
  values: unknown;
  apply(client: OneMoClient): string | void;
}

/** An option with its value types sealed inside `decode`, so that all options fit one table. */
interface Option extends Omit<OptionDef<readonly ParamSpec[]>, 'apply'> {
  /** Decode `<connect_id>,<values…>` (601 on any problem) and hand the result to `run`. */
  decode(q: OneMoContext, ctx: CommandContext, run: (set: DecodedSet) => Outcome | Promise<Outcome>): Outcome | Promise<Outcome>;
}

/** Written in place, `params` types `apply`'s values (see DecodedOf). */
function option<const Ps extends readonly ParamSpec[]>(def: OptionDef<Ps>): Option {
  const { apply, ...rest } = def;
  return {
    ...rest,
    decode: (q, ctx, run) =>
      withIndexedArgs(ctx, connectIdParam(q), def.params, (id, values) => run({ id, values, apply: (client) => apply(client, values) }), badParam),
  };
}

const bit = (b: boolean): string => (b ? '1' : '0');
const quoted = (raw: string): string => `"${raw}"`;

function optionDefs(q: OneMoContext): Option[] {
  const d = q.data;
  return [
    option({
      name: 'version',
      // The profile lists the versions this module accepts (§3.1 note 3); the config holds 3 or 4.
      params: [{ name: 'version', type: 'int', values: d.versions }],
      query: (c) => [String(c.version)],
      apply: (cl, [v]) => void (cl.config.version = oneOf(v, [3, 4])),
    }),
    option({
      name: 'cid',
      params: [int('cid', d.cid.min, d.cid.max)],
      query: (c) => [String(c.cid)],
      apply: (cl, [cid]) => void (cl.config.cid = cid),
    }),
    option({
      name: 'ssl',
      params: [flag('ssl_enable'), optional(int('ssl_id', 0, d.sslIdMax))],
      query: (c) => [bit(c.ssl.enabled), String(c.ssl.id)],
      apply: (cl, [enable, id]) => {
        cl.config.ssl = { enabled: enable === 1, id: id ?? cl.config.ssl.id };
      },
    }),
    option({
      name: 'keepalive',
      params: [int('keepalive_time', 0, 65535)],
      testText: '(0,60-65535)',
      query: (c) => [String(c.keepalive)],
      apply: (cl, [t]) => {
        // "范围：0或60~65535".
        if (t !== 0 && t < 60) return `<keepalive_time>=${t} is neither 0 nor 60–65535`;
        cl.config.keepalive = t;
      },
    }),
    option({
      name: 'clean',
      params: [flag('clean_session')],
      query: (c) => [bit(c.clean)],
      apply: (cl, [clean]) => void (cl.config.clean = clean === 1),
    }),
    option({
      name: 'retrans',
      params: [int('retrans_interval', 20, 60), optional(int('retry_times', 0, 3))],
      query: (c) => [String(c.retrans.interval), String(c.retrans.retries)],
      apply: (cl, [interval, retries]) => {
        cl.config.retrans = { interval, retries: retries ?? cl.config.retrans.retries };
      },
    }),
    option({
      name: 'willoption',
      params: [flag('will_flag'), optional(int('will_qos', 0, 2)), optional(flag('will_retain'))],
      query: (c) => [bit(c.will.flag), String(c.will.qos), bit(c.will.retain)],
      apply: (cl, [flagV, qos, retain]) => {
        const w = cl.config.will;
        cl.config.will = {
          ...w,
          flag: flagV === 1,
          qos: qos === undefined ? w.qos : oneOf(qos, [0, 1, 2]),
          retain: retain === undefined ? w.retain : retain === 1,
        };
      },
    }),
    option({
      name: 'willpayload',
      params: [
        { name: 'will_topic', type: 'string', maxLength: d.maxWillLength },
        // Hex will messages may be typed unquoted, like AT+MQTTPUB <message>.
        { name: 'will_msg', type: 'string', allowBare: true },
      ],
      query: (c) => (c.will.topic === '' ? [] : [quoted(Buffer.from(c.will.topic, 'utf8').toString('latin1')), quoted(c.will.messageText)]),
      // Both are required parameters: a line without <will_msg> fails decoding ("go together").
      apply: (cl, [topic, msg]) => {
        const message = decodeInput(Buffer.from(msg, 'latin1'), cl.config.encoding.input);
        if (typeof message === 'string') return `<will_msg>: ${message}`;
        if (message.length > d.maxWillLength) return `<will_msg> longer than ${d.maxWillLength} bytes`;
        cl.config.will = { ...cl.config.will, topic: textFromAt(topic), messageText: msg, message };
      },
    }),
    option({
      name: 'pingreq',
      params: [int('ping_interval', 60, 86400)],
      query: (c) => [String(c.pingInterval)],
      apply: (cl, [s]) => void (cl.config.pingInterval = s),
    }),
    option({
      name: 'pingresp',
      anyTime: true,
      params: [flag('pingack')],
      query: (c) => [bit(c.pingack)],
      apply: (cl, [v]) => void (cl.config.pingack = v === 1),
    }),
    option({
      name: 'encoding',
      anyTime: true,
      params: [int('input_format', 0, 2), optional(flag('output_format'))],
      query: (c) => [String(c.encoding.input), String(c.encoding.output)],
      apply: (cl, [input, output]) => {
        cl.config.encoding = { input: oneOf(input, [0, 1, 2]), output: output ?? cl.config.encoding.output };
      },
    }),
    option({
      name: 'cached',
      anyTime: true,
      params: [flag('cached_mode')],
      query: (c) => [bit(c.cached)],
      apply: (cl, [v]) => void (cl.config.cached = v === 1),
    }),
    option({
      name: 'reconn',
      params: [int('reconn_times', 0, 3), optional(int('reconn_interval', 20, 60)), optional(flag('mode'))],
      query: (c) => [String(c.reconn.times), String(c.reconn.interval), String(c.reconn.mode)],
      apply: (cl, [times, interval, mode]) => {
        const r = cl.config.reconn;
        cl.config.reconn = { times, interval: interval ?? r.interval, mode: mode ?? r.mode };
      },
    }),
  ];
}

export function mqttcfgCommand(q: OneMoContext): CommandDef {
  const options = optionDefs(q);
  const byName = new Map(options.map((o) => [o.name, o]));
  const log = q.device.log.child({ component: 'onemo-mqtt' });

  const testLines = options.map((o) => {
    const values = o.testText ?? o.params.map((p) => (p.type === 'int' ? rangeText(p) : '')).join(',');
    return `+MQTTCFG: "${o.name}",${connectIdRange(q)},${values}`;
  });

  const queryLine = (o: Option, cfg: OneMoClientConfig): string => {
    const values = o.query(cfg);
    return `+MQTTCFG: "${o.name}"${values.map((v) => `,${v}`).join('')}`;
  };

  function set(ctx: CommandContext, o: Option): Outcome | Promise<Outcome> {
    return o.decode(q, ctx, ({ id, values, apply }) => {
      const client = q.client(id);
      if (client.active && !o.anyTime) {
        const code = client.state === 'connected' ? MQTT_ERR.alreadyConnected : MQTT_ERR.connecting;
        return fail(code, `client ${client.id} is ${client.state}: "${o.name}" cannot change`);
      }
      const problem = apply(client);
      if (typeof problem === 'string') return badParam(problem);
      log.debug({ client: client.id, option: o.name, values }, 'config set');
      return ok();
    });
  }

  return {
    name: '+MQTTCFG',
    test: () => ok(...testLines),
    set: (ctx) => {
      const [nameArg, ...rest] = ctx.args;
      if (nameArg?.kind !== 'string') return badParam('<option> must be a quoted string');
      const name = nameArg.value.toLowerCase();
      const sub: CommandContext = { ...ctx, args: rest };
      if (name === 'query') {
        return mqttArgs(sub, [connectIdParam(q)], ([id]) => {
          const cfg = q.client(id).config;
          return ok(...options.map((o) => queryLine(o, cfg)));
        });
      }
      const o = byName.get(name);
      if (!o) return badParam(`unknown option "${nameArg.value}"`);
      // `"<option>",<connect_id>` queries; anything more (even an empty value) is a set.
      if (rest.length <= 1) {
        return mqttArgs(sub, [connectIdParam(q)], ([id]) => ok(queryLine(o, q.client(id).config)));
      }
      return set(sub, o);
    },
  };
}
