/**
 * `vmodem ctl <operation> …`: drive a running modem through its control API (src/control/API.md).
 *
 * Where: `--url http://127.0.0.1:<port>` or `--port <port>` (or VMODEM_CONTROL_URL), and
 * `--token` (or VMODEM_CONTROL_TOKEN), both printed in the banner of
 * `vmodem start --control-port <n>`. `--modem <index|name>` picks the modem (default 0).
 *
 * Exit codes: 0 done, 1 the API refused or could not be reached (one line on stderr, with the
 * API's error code), 2 a bad command line.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ControlEvent } from '../control/controller.js';
import { ControlApiError, ControlClient, type PayloadInput } from '../control/ctl-client.js';
import type { CliIo, CliStatus } from './main.js';

/** Exit code when the API answered with an error or could not be reached. */
export const EXIT_API = 1;

interface CtlGlobals {
  url?: string;
  port?: number;
  token?: string;
  modem: string;
  json?: boolean;
  timeout: number;
}

function wholeNumber(what: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${what} must be a whole number`);
    return Number(v);
  };
}

function portNumber(v: string): number {
  const n = /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number 1–65535');
  return n;
}

function onOff(what: string, yes: string[], no: string[]): (v: string) => boolean {
  return (v) => {
    const s = v.trim().toLowerCase();
    if (yes.includes(s)) return true;
    if (no.includes(s)) return false;
    throw new InvalidArgumentError(`${what}: use ${yes[0]} or ${no[0]}`);
  };
}

/** A Wi-Fi signal in dBm, as the API takes it (-100–0). */
function dbm(v: string): number {
  const s = v.trim();
  const n = /^-?\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < -100 || n > 0) throw new InvalidArgumentError('must be -100–0 (dBm)');
  return n === 0 ? 0 : n; // '-0' is 0
}

function oneWord(what: string, words: string[]): (v: string) => string {
  return (v) => {
    const s = v.trim().toLowerCase();
    if (!words.includes(s)) throw new InvalidArgumentError(`${what} must be ${words.join(', ')}`);
    return s;
  };
}

function oneLine(cmd: Command, hint: string): Command {
  return cmd.configureOutput({
    outputError: (str, write) => {
      const msg = str.replace(/^error: /, '').replace(/\s+/g, ' ').trim();
      write(`vmodem: ${msg} (see \`${hint}\`)\n`);
    },
  });
}

/** The client for this invocation, or a usage error (exit 2) when URL or token are missing. */
function clientFor(cmd: Command): { client: ControlClient; o: CtlGlobals } {
  const o = cmd.optsWithGlobals<CtlGlobals>();
  if (o.url !== undefined && o.port !== undefined) cmd.error('give --url or --port, not both', { exitCode: 2, code: 'vmodem.usage' });
  let url = o.url ?? (o.port !== undefined ? `http://127.0.0.1:${o.port}` : process.env.VMODEM_CONTROL_URL);
  if (!url) cmd.error('where is the modem? give --port <n> or --url http://127.0.0.1:<n> (or set VMODEM_CONTROL_URL); `vmodem start --control-port <n>` prints both', { exitCode: 2, code: 'vmodem.usage' });
  url = url!.trim();
  if (/^\d+$/.test(url)) url = `http://127.0.0.1:${url}`;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    cmd.error(`--url "${url}" is not an http:// URL (e.g. http://127.0.0.1:8080)`, { exitCode: 2, code: 'vmodem.usage' });
  }
  const token = o.token ?? process.env.VMODEM_CONTROL_TOKEN;
  if (!token) cmd.error('no token: give --token <token> (or set VMODEM_CONTROL_TOKEN); the start banner prints it', { exitCode: 2, code: 'vmodem.usage' });
  return { client: new ControlClient({ url, token: token!, modem: o.modem, timeoutMs: o.timeout }), o };
}


const EVENT_TYPES = ['serial', 'urc', 'mqtt', 'state'] as const;

export function formatEvent(e: ControlEvent): string {
  const head = `${String(e.t).padStart(7)}ms ${e.modem}`;
  switch (e.type) {
    case 'serial':
      return `${head} serial ${e.dir === 'in' ? '<-' : '->'} ${JSON.stringify(e.text)}${e.kind && e.dir === 'out' ? ` (${e.kind})` : ''}`;
    case 'urc':
      return `${head} urc    ${e.text}`;
    case 'mqtt':
      return `${head} mqtt   ${e.dir === 'up' ? 'device -> broker' : 'broker -> device'} ${e.cmd}${e.topic !== undefined ? ` ${e.topic}` : ''}${e.qos !== undefined ? ` qos=${e.qos}` : ''}${e.messageId !== undefined ? ` id=${e.messageId}` : ''}`;
    case 'state':
      return `${head} state  ${e.what}${e.detail !== undefined ? ` ${JSON.stringify(e.detail)}` : ''}`;
    default:
      return JSON.stringify(e);
  }
}

const CTL_HELP = `
Where the modem is: --port/--url and --token, or the environment:
  export VMODEM_CONTROL_URL=http://127.0.0.1:<port> VMODEM_CONTROL_TOKEN=<token>
(\`vmodem start --control-port <n>\` prints both.)

Examples:
  vmodem ctl inspect
  vmodem ctl publish dev/down '{"led":1}' --qos 1
  vmodem ctl published 'dev/#'
  vmodem ctl drop                       # the broker closes the session: +QMTSTAT: 0,1
  vmodem ctl stall on                   # keepalive runs out: +QMTPING / +QMTSTAT: 0,2
  vmodem ctl refuse-connect 5           # next CONNECT: +QMTCONN: 0,0,5
  vmodem ctl registration off           # +QMTSTAT: 0,7, AT+CREG? shows 0
  vmodem ctl registration-state denied 15
  vmodem ctl sim out                    # +CPIN: NOT READY
  vmodem ctl deactivate-context 1       # +QIURC: "pdpdeact",1
  vmodem ctl wifi down                  # tencent-qcloud: WIFI DISCONNECT, +TCMQTTDISCON
  vmodem ctl wifi up --rssi -80
  vmodem ctl override +CSQ '+CSQ: 5,99' OK --once
  vmodem ctl events --types urc,state
  vmodem ctl --modem 2 reboot

Exit codes: 0 done, 1 the API answered an error (or is unreachable), 2 bad command line.`;

/** Register `vmodem ctl` and its operations on the program (output and exit code through io/status). */
export function registerCtl(program: Command, io: CliIo, status: CliStatus): Command {
  const out = (line: string): void => void io.stdout.write(`${line}\n`);

  /** An operation that answers `{ ok: true }`: print `ok` (or the JSON). */
  const simple = async (o: CtlGlobals, p: Promise<unknown>, what: string): Promise<void> => {
    const r = await p;
    out(o.json ? JSON.stringify(r) : what);
  };

  /** Run an operation: print its result, or the API's error in one line with exit code 1. */
  const op =
    (fn: (client: ControlClient, o: CtlGlobals, cmd: Command, args: unknown[]) => Promise<unknown>) =>
    async (...all: unknown[]) => {
      const cmd = all[all.length - 1] as Command;
      const args = all.slice(0, -2);
      const { client, o } = clientFor(cmd);
      try {
        await fn(client, o, cmd, args);
      } catch (err) {
        if (!(err instanceof ControlApiError)) throw err;
        io.stderr.write(`vmodem: ${err.message.replace(/\s+/g, ' ').trim()} [${err.code}]\n`);
        status.exitCode = EXIT_API;
      }
    };

  const ctl = program
    .command('ctl')
    .description('Drive a running modem through its control API (vmodem start --control-port): faults, publishes, inspection, events.')
    .option('--url <url>', 'control API URL, e.g. http://127.0.0.1:8080 (env: VMODEM_CONTROL_URL)')
    .addOption(new Option('--port <n>', 'control API port on 127.0.0.1 (instead of --url)').argParser(portNumber))
    .addOption(new Option('--token <token>', 'control API token (printed in the start banner)').env('VMODEM_CONTROL_TOKEN'))
    .option('-m, --modem <ref>', 'modem index or name', '0')
    .option('--json', 'print the API\'s JSON answer instead of a summary')
    .addOption(new Option('--timeout <ms>', 'request timeout in milliseconds').argParser(wholeNumber('--timeout')).default(15_000))
    .addHelpText('after', CTL_HELP);
  oneLine(ctl, 'vmodem ctl --help');

  const sub = (name: string, description: string): Command => {
    const c = ctl.command(name).description(description);
    oneLine(c, `vmodem ctl ${name.split(' ')[0]} --help`);
    return c;
  };

  // ---- inspection ----

  sub('modems', 'List the modems (index, name, profile, serial device, IMEI).').action(
    op(async (client, o) => {
      const ms = await client.modems();
      if (o.json) return out(JSON.stringify(ms));
      for (const m of ms) out(`${String(m.index).padEnd(4)}${m.name.padEnd(12)}${m.profile.padEnd(16)}${(m.link ?? m.device).padEnd(28)}IMEI ${m.imei}`);
    }),
  );

  sub('cluster', 'With vmodem start --cluster: list the modems of every node (name, node, state, profile, IMEI), from Redis.')
    .option('--nodes', 'list the live nodes instead (id, host, pid, broker, control API, modems)')
    .action(
      op(async (client, o, c) => {
        if (c.opts<{ nodes?: boolean }>().nodes) {
          const r = await client.request<{ nodes: { node: string; host: string; pid: number; broker?: string; control?: string; modems: number }[] }>('GET', '/v1/cluster/nodes');
          if (o.json) return out(JSON.stringify(r.nodes));
          for (const n of r.nodes) out(`${n.node.padEnd(24)}${`${n.host} pid ${n.pid}`.padEnd(28)}${String(n.modems).padStart(6)} modems  ${n.broker ?? ''}  ${n.control ?? ''}`);
          return;
        }
        const r = await client.request<{ modems: { name: string; node: string; state: string; profile: string; imei: string }[] }>('GET', '/v1/cluster/modems');
        if (o.json) return out(JSON.stringify(r.modems));
        for (const m of r.modems) out(`${m.name.padEnd(12)}${m.node.padEnd(24)}${m.state.padEnd(11)}${m.profile.padEnd(16)}IMEI ${m.imei}`);
      }),
    );

  // ---- readiness (issue 14 §4) ----

  sub(
    'wait-ready',
    'Wait until a vmodem started in the background accepts connections: its --ready-file is written and its control API answers (without --ready-file: the API at --url/--port). Prints the ready file\'s JSON (or `ready <url>`). Exit 0 when ready, 1 when not within --wait.',
  )
    .option('--ready-file <path>', 'the file given to vmodem start --ready-file (URL and token are read from it)')
    .option('--wait <seconds>', 'give up after this long', wholeNumber('--wait'), 30)
    .action(async (_o: unknown, c: Command) => {
      const w = c.opts<{ readyFile?: string; wait: number }>();
      const g = c.optsWithGlobals<CtlGlobals>();
      const deadline = performance.now() + w.wait * 1000;
      let why = 'nothing yet';
      // Without a file, URL and token come as for every operation (a usage error when missing).
      const fixed = w.readyFile === undefined ? clientFor(c) : undefined;
      for (;;) {
        let client = fixed?.client;
        let readyText: string | undefined;
        if (w.readyFile !== undefined) {
          try {
            readyText = readFileSync(w.readyFile, 'utf8');
            const info = JSON.parse(readyText) as { control?: { url: string; token: string } | null };
            // Started without a control API: the file alone says it is up.
            if (!info.control) return out(readyText.trim());
            client = new ControlClient({ url: info.control.url, token: info.control.token, modem: g.modem, timeoutMs: 2000 });
          } catch (err) {
            why = `${w.readyFile}: ${(err as NodeJS.ErrnoException).code ?? 'not complete yet'}`;
            client = undefined;
          }
        }
        if (client) {
          try {
            await client.inspect();
            return out(readyText !== undefined ? readyText.trim() : `ready ${client.url}`);
          } catch (err) {
            if (!(err instanceof ControlApiError)) throw err;
            // A wrong token or modem does not get better by waiting.
            if (err.code !== 'unreachable') {
              io.stderr.write(`vmodem: ${err.message.replace(/\s+/g, ' ').trim()} [${err.code}]\n`);
              status.exitCode = EXIT_API;
              return;
            }
            why = err.message;
          }
        }
        if (performance.now() >= deadline) {
          io.stderr.write(`vmodem: not ready within ${w.wait} s (${why.replace(/\s+/g, ' ').trim()})\n`);
          status.exitCode = EXIT_API;
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });

  sub('inspect', 'Print the modem\'s state as JSON: MQTT clients per index, network, serial settings, faults, counters.').action(
    op(async (client) => {
      out(JSON.stringify(await client.inspect(), null, 2));
    }),
  );

  // ---- cloud side ----

  sub('publish', 'Publish to the device from the cloud side (the broker delivers it to the device\'s subscription).')
    .argument('<topic>', 'topic name (no wildcards)')
    .argument('[payload]', 'payload text (UTF-8); hex with --hex, base64 with --base64; omit with --file')
    .option('--hex', 'the payload argument is hex (e.g. 01ff)')
    .option('--base64', 'the payload argument is base64')
    .option('--file <path>', 'read the payload from a file (- = stdin)')
    .addOption(new Option('-q, --qos <n>', 'QoS').choices(['0', '1', '2']).default('0'))
    .option('-r, --retain', 'retained message')
    .addHelpText('after', `\nExamples:\n  vmodem ctl publish dev/down '{"led":1}' --qos 1\n  vmodem ctl publish dev/bin 00ff1a --hex\n  vmodem ctl publish dev/ota --file firmware.bin --qos 1`)
    .action(
      op(async (client, o, cmd, [topic, payload]) => {
        const so = cmd.opts<{ hex?: boolean; base64?: boolean; file?: string; qos: string; retain?: boolean }>();
        const sources = [payload !== undefined, so.file !== undefined].filter(Boolean).length;
        if (sources > 1) cmd.error('give the payload as an argument or with --file, not both', { exitCode: 2 });
        if (so.hex && so.base64) cmd.error('give --hex or --base64, not both', { exitCode: 2 });
        let input: PayloadInput;
        if (so.file !== undefined) {
          let bytes: Buffer;
          try {
            bytes = readFileSync(so.file === '-' ? 0 : so.file);
          } catch (err) {
            const e = err as NodeJS.ErrnoException;
            return cmd.error(`--file ${so.file}: cannot read (${e.code ?? e.message})`, { exitCode: 2 });
          }
          input = { payloadBase64: bytes.toString('base64') };
        } else {
          const p = (payload as string | undefined) ?? '';
          input = so.hex ? { payloadHex: p } : so.base64 ? { payloadBase64: p } : { payload: p };
        }
        const qos = Number(so.qos) as 0 | 1 | 2;
        const r = await client.publish({ topic: topic as string, ...input, qos, retain: so.retain ?? false });
        out(o.json ? JSON.stringify(r) : `published ${String(r.bytes)} bytes to ${topic as string} (qos ${qos}${so.retain ? ', retained' : ''})`);
      }),
    );

  sub('published', 'List what the device published (embedded broker), optionally only topics matching a filter.')
    .argument('[filter]', 'MQTT topic filter (+ and # wildcards)')
    .addHelpText('after', '\nOne line per message: <topic> <payload> (hex: … when not UTF-8). --json prints every field.')
    .action(
      op(async (client, o, _cmd, [filter]) => {
        const ps = await client.published(filter as string | undefined);
        if (o.json) return out(JSON.stringify(ps));
        for (const p of ps) out(`${p.topic} ${p.payload ?? `hex:${p.payloadHex}`}${p.qos ? ` (qos ${p.qos})` : ''}${p.retain ? ' (retained)' : ''}`);
      }),
    );

  sub('wait-publish', 'Wait until the device publishes a matching message (already published ones count); exit 1 on timeout.')
    .argument('[topic]', 'topic filter to match')
    .option('--payload <text>', 'the payload must be exactly this text')
    .option('--qos <n>', 'the QoS must be this', wholeNumber('--qos'))
    .option('--wait <ms>', 'give up after this long', wholeNumber('--wait'), 5000)
    .action(
      op(async (client, o, cmd, [topic]) => {
        const so = cmd.opts<{ payload?: string; qos?: number; wait: number }>();
        const p = await client.waitForPublish({ topic: topic as string | undefined, payload: so.payload, qos: so.qos }, so.wait);
        out(o.json ? JSON.stringify(p) : `${p.topic} ${p.payload ?? `hex:${p.payloadHex}`}`);
      }),
    );

  sub('drop', 'Close the device\'s MQTT connection(s) from the broker side (EC200: +QMTSTAT: 0,1).').action(
    op(async (client, o) => {
      const r = await client.drop();
      out(o.json ? JSON.stringify(r) : `dropped ${r.dropped} connection${r.dropped === 1 ? '' : 's'}`);
    }),
  );

  sub('stall', 'The broker stops answering (nothing passes either way) so the keepalive runs out; off drops the dead link.')
    .argument('<on|off>', 'on or off', onOff('stall', ['on', 'true', '1'], ['off', 'false', '0']))
    .action(op((client, o, _c, [on]) => simple(o, client.stall(on as boolean), `stall ${on ? 'on' : 'off'}`)));

  sub('refuse-connect', 'Answer the next CONNECT with this CONNACK return code (1–5) and close (EC200: +QMTCONN: 0,0,<code>).')
    .argument('<returnCode>', '1 bad protocol, 2 client id rejected, 3 server unavailable, 4 bad credentials, 5 not authorized', wholeNumber('returnCode'))
    .action(op((client, o, _c, [code]) => simple(o, client.refuseConnect(code as number), `next CONNECT will be refused with ${String(code)}`)));

  for (const what of ['subscribe', 'publish'] as const) {
    sub(`refuse-${what}`, `Refuse ${what === 'subscribe' ? 'SUBSCRIBEs (granted QoS 128)' : 'PUBLISHes (the broker drops the client)'} whose topic matches a filter; --clear stops.`)
      .argument('[filter]', 'topic filter')
      .option('--clear', 'stop refusing (forget every filter)')
      .action(
        op((client, o, cmd, [filter]) => {
          const clear = cmd.opts<{ clear?: boolean }>().clear ?? false;
          if (clear === (filter !== undefined)) cmd.error('give a topic filter, or --clear', { exitCode: 2 });
          const f = clear ? null : (filter as string);
          const p = what === 'subscribe' ? client.refuseSubscribe(f) : client.refusePublish(f);
          return simple(o, p, clear ? `${what}s accepted again` : `refusing ${what}s to ${f!}`);
        }),
      );
  }

  sub('ack-fault', 'Delay or withhold the broker\'s PUBACK or SUBACK for this modem (the module retransmits, then reports a timeout).')
    .argument('<kind>', 'puback or suback')
    .argument('<delay>', 'milliseconds, "withhold", or "normal"')
    .action(
      op((client, o, cmd, [kind, delay]) => {
        if (kind !== 'puback' && kind !== 'suback') return cmd.error('kind must be puback or suback', { exitCode: 2 }) as never;
        const d = delay as string;
        let v: number | null | 'normal';
        if (d === 'withhold') v = null;
        else if (d === 'normal') v = 'normal';
        else if (/^\d+$/.test(d)) v = Number(d);
        else return cmd.error('delay must be milliseconds, withhold or normal', { exitCode: 2 }) as never;
        return simple(o, client.ackFault(kind, v), `${kind}: ${v === null ? 'withheld' : v === 'normal' ? 'normal' : `delayed ${v} ms`}`);
      }),
    );

  sub('broker', 'Take the broker down for this modem (connections drop, opens fail) or bring it back up.')
    .argument('<up|down>', 'up or down', onOff('broker', ['up', 'on', 'true'], ['down', 'off', 'false']))
    .action(op((client, o, _c, [up]) => simple(o, client.broker(up as boolean), `broker ${up ? 'up' : 'down'}`)));

  // ---- network side ----

  sub('registration', 'Lose (off) or regain (on) network registration: +CREG/+CEREG state, open MQTT links end (EC200: +QMTSTAT: 0,7).')
    .argument('<on|off>', 'on (registered) or off (lost)', onOff('registration', ['on', 'registered', 'true', '1'], ['off', 'lost', 'false', '0']))
    .action(op((client, o, _c, [on]) => simple(o, client.registration(on as boolean), on ? 'registered' : 'registration lost')));

  sub('registration-state', 'Set what the network grants: home, roaming, denied (with a reject cause, default 15) or none; +CEREG URCs per the enabled <n>, links end when registration goes.')
    .argument('<state>', 'home, roaming, denied or none', oneWord('state', ['home', 'roaming', 'denied', 'none']))
    .argument('[rejectCause]', 'the EMM reject cause with denied (0–255)', wholeNumber('rejectCause'))
    .action(
      op((client, o, _c, [state, cause]) =>
        simple(o, client.registrationState(state as 'home', cause as number | undefined), `registration ${state as string}${cause !== undefined ? ` (cause ${String(cause)})` : ''}`),
      ),
    );

  sub('sim', 'Pull the SIM (out) or put it back (in): +CPIN: NOT READY / READY-style URCs, registration lost, then searched again.')
    .argument('<in|out>', 'in (inserted) or out (removed)', onOff('sim', ['in', 'inserted', 'on', 'true'], ['out', 'removed', 'off', 'false']))
    .action(op((client, o, _c, [present]) => simple(o, client.sim(present as boolean), present ? 'SIM inserted' : 'SIM removed')));

  sub('deactivate-context', 'The network deactivates a data context: the vendor URC (+QIURC: "pdpdeact",<cid>, +MIPCALL: <cid>,0, +CGEV), links over it end.')
    .argument('[cid]', 'context id (default 1)', wholeNumber('cid'))
    .action(op((client, o, _c, [cid]) => simple(o, client.deactivateContext(cid as number | undefined), `context ${(cid as number | undefined) ?? 1} deactivated`)));

  sub('wifi', 'Wi-Fi modules (tencent-qcloud): take the access point off the air (down: WIFI DISCONNECT, MQTT links end) or bring it back (up: the station rejoins); --rssi sets the signal AT+CWJAP? reports.')
    .argument('<up|down>', 'up (on the air) or down (gone)', onOff('wifi', ['up', 'on', 'true'], ['down', 'off', 'false']))
    .option('--rssi <dBm>', 'signal strength, -100–0 dBm', dbm)
    .action(
      op((client, o, c, [up]) => {
        const rssi = c.opts<{ rssi?: number }>().rssi;
        return simple(o, client.wifi({ ap: up as boolean, ...(rssi !== undefined ? { rssi } : {}) }), `Wi-Fi access point ${up ? 'up' : 'down'}${rssi !== undefined ? ` (signal ${rssi} dBm)` : ''}`);
      }),
    );

  sub('signal', 'Set the signal quality AT+CSQ reports.')
    .argument('<rssi>', '0–31, or 99 (unknown)', wholeNumber('rssi'))
    .argument('[ber]', '0–7, or 99 (unknown; default)', wholeNumber('ber'))
    .action(op((client, o, _c, [rssi, ber]) => simple(o, client.signal(rssi as number, ber as number | undefined), `signal ${String(rssi)},${String(ber ?? 99)}`)));

  sub('fail-next-open', 'Make the next network open (AT+QMTOPEN…) fail: dns (EC200: +QMTOPEN: 0,4), refused or timeout (-1).')
    .argument('<reason>', 'dns, refused or timeout')
    .action(
      op((client, o, cmd, [reason]) => {
        if (!['dns', 'refused', 'timeout'].includes(reason as string)) return cmd.error('reason must be dns, refused or timeout', { exitCode: 2 }) as never;
        return simple(o, client.failNextOpen(reason as 'dns'), `next open fails: ${reason as string}`);
      }),
    );

  sub('latency', 'Add latency (each way) to the modem↔broker link.')
    .argument('<ms>', 'milliseconds (0 = none)', wholeNumber('ms'))
    .action(op((client, o, _c, [ms]) => simple(o, client.latency(ms as number), `latency ${String(ms)} ms`)));

  // ---- serial side ----

  sub('override', 'Answer a command with these lines instead (once or until cleared); the last line is the final result code.')
    .argument('<command>', 'the command, e.g. +CSQ (any form) or +CREG? (the read form only)')
    .argument('<lines...>', 'response lines, e.g. \'+CSQ: 5,99\' OK  (or just ERROR)')
    .option('--once', 'apply to the next matching command only')
    .addOption(new Option('--form <form>', 'only this form').choices(['test', 'read', 'set', 'exec']))
    .action(
      op((client, o, cmd, [command, lines]) => {
        const so = cmd.opts<{ once?: boolean; form?: 'test' | 'read' | 'set' | 'exec' }>();
        return simple(o, client.override({ command: command as string, response: lines as string[], once: so.once ?? false, form: so.form }), `override ${command as string}${so.once ? ' (once)' : ''}`);
      }),
    );

  sub('clear-overrides', 'Remove every response override.').action(op((client, o) => simple(o, client.clearOverrides(), 'overrides cleared')));

  sub('response-delay', 'Hold every final response this long (a slow module).')
    .argument('<ms>', 'milliseconds (0 = none)', wholeNumber('ms'))
    .action(op((client, o, _c, [ms]) => simple(o, client.responseDelay(ms as number), `response delay ${String(ms)} ms`)));

  sub('baud', 'Pace serial output at this baud rate (10 bits per byte); 0 = unpaced.')
    .argument('<rate>', 'bits per second, e.g. 115200', wholeNumber('rate'))
    .action(op((client, o, _c, [b]) => simple(o, client.baud(b as number), `baud ${String(b)}`)));

  sub('inject', 'Write bytes to the host as if the module printed them (line noise).')
    .argument('<bytes>', 'text (\\r \\n \\xHH escapes understood), or hex with --hex')
    .option('--hex', 'the argument is hex')
    .action(
      op((client, o, cmd, [bytes]) => {
        const so = cmd.opts<{ hex?: boolean }>();
        const b = bytes as string;
        const input = so.hex ? { hex: b } : { base64: unescapeText(b).toString('base64') };
        return simple(o, client.inject(input), 'injected');
      }),
    );

  sub('firmware', 'Offer a firmware image to the device (OTA): the virtual cloud serves it and announces it on the OTA topic the device listens on.')
    .argument('<version>', 'the version the cloud announces')
    .argument('<file>', 'the image file')
    .option('--name <name>', 'file name on the firmware server (default firmware-<version>.bin)')
    .action(
      op(async (client, o, cmd, [version, file]) => {
        let image: Buffer;
        try {
          image = readFileSync(file as string);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          return cmd.error(`${file}: cannot read (${e.code ?? e.message})`, { exitCode: 2 });
        }
        const r = await client.firmware(version as string, image, cmd.opts<{ name?: string }>().name);
        out(o.json ? JSON.stringify(r) : `offered ${String(r.url)} (${String(r.size)} bytes, md5 ${String(r.md5)}) on ${String(r.topic)}`);
      }),
    );
  sub('data-template', 'Tencent IoT Explorer data template: the cloud sends a control (properties to set) to the device and prints the device\'s control_reply; --action sends an action instead.')
    .argument('<params>', 'the params as a JSON object, e.g. \'{"power_switch":1}\'')
    .option('--action <actionId>', 'send an action with this actionId on $thing/down/action (reply: action_reply)')
    .option('--product <productId>', 'the Tencent product (default: the one the modem signed in as)')
    .option('--device <deviceName>', 'the Tencent device name (default: the one the modem signed in as)')
    .option('--wait <ms>', 'how long to wait for the device\'s reply', wholeNumber('--wait'), 5000)
    .addHelpText('after', `\nExamples:\n  vmodem ctl data-template '{"power_switch":1,"brightness":50}'\n  vmodem ctl data-template '{"times":3}' --action blink`)
    .action(
      op(async (client, o, cmd, [params]) => {
        const so = cmd.opts<{ action?: string; product?: string; device?: string; wait: number }>();
        let parsed: unknown;
        try {
          parsed = JSON.parse(params as string);
        } catch {
          parsed = undefined;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return cmd.error('<params> must be a JSON object', { exitCode: 2 });
        const r = await client.dataTemplate({
          method: so.action !== undefined ? 'action' : 'control',
          params: parsed as Record<string, unknown>,
          timeoutMs: so.wait,
          ...(so.action !== undefined ? { actionId: so.action } : {}),
          ...(so.product !== undefined ? { productId: so.product } : {}),
          ...(so.device !== undefined ? { deviceName: so.device } : {}),
        });
        out(o.json ? JSON.stringify(r) : `sent ${JSON.stringify(r.message)} on ${String(r.topic)}\nreply: ${r.reply === null ? '(none)' : JSON.stringify(r.reply)}`);
      }),
    );
  sub('reboot', 'Reboot the module: state is lost as the profile says, boot URCs (RDY) follow.').action(op((client, o) => simple(o, client.reboot(), 'rebooted')));

  // ---- events ----

  sub('events', 'Print the event stream (serial bytes, URCs, MQTT packets, state changes) until Ctrl+C.')
    .option('--all', 'every modem (default: only --modem)')
    .option('--types <list>', `only these event types, comma-separated (${EVENT_TYPES.join(',')})`)
    .option('--count <n>', 'exit after this many events', wholeNumber('--count'))
    .addHelpText('after', '\nOne line per event; --json prints each event as a JSON line.')
    .action(
      op(async (client, o, cmd) => {
        const so = cmd.opts<{ all?: boolean; types?: string; count?: number }>();
        const types = so.types?.split(',').map((s) => s.trim()).filter(Boolean) as ControlEvent['type'][] | undefined;
        const bad = types?.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
        if (bad && bad.length > 0) cmd.error(`--types: unknown type ${bad.join(', ')} (types: ${EVENT_TYPES.join(', ')})`, { exitCode: 2 });
        let seen = 0;
        let done!: (code: number) => void;
        const finished = new Promise<number>((r) => (done = r));
        const ws = await client.events({ modem: so.all ? 'all' : o.modem, types }, (e) => {
          if (so.count !== undefined && seen >= so.count) return;
          seen++;
          out(o.json ? JSON.stringify(e) : formatEvent(e));
          if (so.count !== undefined && seen >= so.count) {
            ws.close(1000, 'done');
            done(0);
          }
        });
        // The stream is open: say so on stderr (scripts wait for it before causing events).
        io.stderr.write(`vmodem: streaming events from ${client.url}${so.all ? '' : ` (modem ${o.modem})`}; Ctrl+C stops\n`);
        if (so.count === 0) {
          ws.close(1000, 'done');
          done(0);
        }
        const stop = () => {
          ws.close(1000, 'interrupted');
          done(0);
        };
        io.signals.once('SIGINT', stop);
        io.signals.once('SIGTERM', stop);
        ws.once('close', (code, reason) => {
          if (code === 1000 || code === 1001) return done(0);
          io.stderr.write(`vmodem: event stream ended (${code}${reason ? ` ${reason}` : ''})\n`);
          done(EXIT_API);
        });
        const code = await finished;
        io.signals.off('SIGINT', stop);
        io.signals.off('SIGTERM', stop);
        if (code !== 0) status.exitCode = code;
      }),
    );

  return ctl;
}

/** `\r`, `\n`, `\t`, `\\`, `\xHH` in a command-line argument → bytes (latin1 otherwise). */
export function unescapeText(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1]!;
      if (n === 'r' || n === 'n' || n === 't' || n === '\\') {
        out.push({ r: 13, n: 10, t: 9, '\\': 92 }[n]);
        i++;
        continue;
      }
      if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
        out.push(parseInt(s.slice(i + 2, i + 4), 16));
        i += 3;
        continue;
      }
    }
    const code = c.charCodeAt(0);
    if (code > 0xff) out.push(...Buffer.from(c, 'utf8'));
    else out.push(code);
  }
  return Buffer.from(out);
}
