/**
 * The demo firmware's driver for Quectel's MQTT application (QMT family) — quectel-ec200
 * (Quectel LTE Standard(A) MQTT Application Note) and quectel-bc260y (BC260Y-CN MQTT
 * Application Note), the way a typical MCU application drives them: check the SIM, wait for
 * registration (AT+CEREG?), open (AT+QMTOPEN, result in +QMTOPEN), connect (AT+QMTCONN, result
 * in +QMTCONN), subscribe (AT+QMTSUB, +QMTSUB), publish with a data prompt, and treat +QMTSTAT
 * as the end of the session. Messages arrive as +QMTRECV URCs (push mode, the default).
 */
import { DemoError, type DemoIo, type DemoScript } from './demo-firmware.js';

/** Any host works: the modem connects to vmodem's broker whatever the firmware names. */
const BROKER_HOST = 'iot.example.com';

export function quectelQmtScript(profile: 'quectel-ec200' | 'quectel-bc260y'): DemoScript {
  // EC200 has AT+QMTPUBEX (§3.3.9, result +QMTPUBEX); BC260Y publishes with AT+QMTPUB (its §2.2.9, result +QMTPUB).
  const pub = profile === 'quectel-ec200' ? 'QMTPUBEX' : 'QMTPUB';
  let msgId = 0;
  const nextId = () => (msgId = (msgId % 65535) + 1);

  return {
    profile,
    // +QMTCONN has three fields as a result, two as a read answer; the demo never reads.
    urc: /^(\+QMTSTAT|\+QMTRECV|\+QMTPING|\+QMTOPEN: \d+,-?\d+$|\+QMTCLOSE|\+QMTDISC|\+QMTSUB|\+QMTUNS|\+QMTPUBEX|\+QMTPUB|\+QMTCONN: \d+,\d+,\d+$|RDY$|\+QIND|\+CFUN|\+QIURC)/,
    lostUrc: /^(\+QMTSTAT: 0,\d+|\+QMTPING: 0,1|RDY)$/,
    parseMessage(line) {
      // +QMTRECV: <client_idx>,<msgID>,"<topic>"[,<payload_len>],"<payload>"
      const m = /^\+QMTRECV: 0,\d+,"([^"]*)",(?:\d+,)?"(.*)"$/.exec(line);
      return m ? { topic: m[1]!, payload: m[2]! } : undefined;
    },

    async connect(io: DemoIo) {
      io.status('starting', 'talking to the module');
      let alive = false;
      for (let i = 0; i < 10 && !alive; i++) {
        alive = (await io.at('AT', { timeoutMs: 1000, allowError: true }).catch(() => undefined))?.final === 'OK';
        if (!alive) await io.sleep(1000);
      }
      if (!alive) throw new DemoError('the module does not answer AT');
      // Echo on, so the console shows each command once; verbose errors.
      await io.at('ATE1');
      await io.at('AT+CMEE=2');
      const cpin = await io.at('AT+CPIN?', { allowError: true });
      if (!cpin.lines.includes('+CPIN: READY')) throw new DemoError(`SIM not ready (${cpin.lines[0] ?? cpin.final})`);
      io.status('registering', 'waiting for the network (AT+CEREG?)');
      for (let i = 0; ; i++) {
        const r = await io.at('AT+CEREG?');
        const stat = /^\+CEREG: \d+,(\d+)/.exec(r.lines.find((l) => l.startsWith('+CEREG:')) ?? '')?.[1];
        if (stat === '1' || stat === '5') break;
        if (i >= 60) throw new DemoError('not registered after a minute');
        await io.sleep(1000);
      }
      io.status('connecting', `MQTT to ${BROKER_HOST}`);
      // Whatever the port was doing before (a restart of this firmware, a user's session), start clean.
      await io.at('AT+QMTCLOSE=0', { allowError: true });
      await io.urc(/^\+QMTCLOSE: 0,/, 3000).catch(() => undefined);
      await io.at('AT+QMTCFG="keepalive",0,60');
      await io.at(`AT+QMTOPEN=0,"${BROKER_HOST}",1883`);
      const open = await io.urc(/^\+QMTOPEN: 0,(-?\d+)$/, 30_000);
      if (open[1] !== '0' && open[1] !== '2') throw new DemoError(`+QMTOPEN: 0,${open[1]}`);
      await io.at(`AT+QMTCONN=0,"${io.clientId}"`);
      const conn = await io.urc(/^\+QMTCONN: 0,(\d+),(\d+)$/, 30_000);
      if (conn[1] !== '0' || conn[2] !== '0') throw new DemoError(`+QMTCONN: 0,${conn[1]},${conn[2]}`);
      const id = nextId();
      await io.at(`AT+QMTSUB=0,${id},"${io.topics.command}",1`);
      const sub = await io.urc(new RegExp(`^\\+QMTSUB: 0,${id},(\\d+)`), 30_000);
      if (sub[1] !== '0') throw new DemoError(`subscribe failed (+QMTSUB result ${sub[1]})`);
    },

    async isConnected(io: DemoIo) {
      await io.at('ATE1');
      // +QMTCONN: 0,3 = connected (the read form has two fields).
      const r = await io.at('AT+QMTCONN?', { allowError: true });
      return r.lines.includes('+QMTCONN: 0,3');
    },

    async publish(io: DemoIo, topic: string, payload: string) {
      const id = nextId();
      const len = Buffer.byteLength(payload, 'utf8');
      await io.at(`AT+${pub}=0,${id},1,0,"${topic}",${len}`, { data: payload });
      const r = await io.urc(new RegExp(`^\\+${pub}: 0,${id},(\\d)`), 30_000);
      if (r[1] !== '0') throw new DemoError(`publish failed (+${pub} result ${r[1]})`);
    },

    async signal(io: DemoIo) {
      const r = await io.at('AT+CSQ');
      const m = /^\+CSQ: (\d+),/.exec(r.lines.find((l) => l.startsWith('+CSQ:')) ?? '');
      return m ? Number(m[1]) : undefined;
    },
  };
}

/** Profiles the demo firmware can drive, and its script for each. */
export const DEMO_SCRIPTS: Record<string, () => DemoScript> = {
  'quectel-ec200': () => quectelQmtScript('quectel-ec200'),
  'quectel-bc260y': () => quectelQmtScript('quectel-bc260y'),
};
