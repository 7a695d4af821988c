/**
 * What the conformance suite needs to know of each profile beyond its command table: how a
 * firmware brings MQTT up (so random input reaches connected-state code), how it publishes and
 * which URC says "sent" (the acknowledged-message invariant), which lines reuse an id still in
 * flight (issue 8's reproducer and its kin), and how it enters data mode. Everything else the
 * generators take from the modem's own registered commands and from the profile's transcripts
 * (fixtures/transcripts/<profile>/*.at, the manuals' examples).
 */

export interface PublishPlan {
  /** Bytes the host sends, in order, each after the previous settled (command line, then data). */
  sends: Buffer[];
  /** Whether the output of the exchange says the module sent this message (OK plus success URC). */
  acked(output: string): boolean;
}

export interface ProfileKit {
  id: string;
  /** Host lines (without CR) that open and connect the MQTT client as `clientId`, in order. */
  connect(clientId: string): string[];
  /** A subscribe line for `topic` at `qos` with packet id `id` (where the firmware picks ids). */
  subscribe(topic: string, qos: 0 | 1 | 2, id: number): string;
  /**
   * A command line that reads (and frees) messages from the module's receive buffer, where it has
   * one: the delivered-message invariant reads the buffer this way (as firmware would) when a
   * message the module acknowledged to the broker was not written to the firmware.
   */
  readBuffer?: string;
  /** A publish of `payload` on `topic`, with packet id `id` where the firmware picks ids. */
  publish(topic: string, payload: string, qos: 0 | 1, id: number): PublishPlan;
  /** Pipelined bursts that reuse an id still in flight, or race requests on one client. */
  sameId: string[];
  /** A command line that enters data mode for a payload of `len` bytes (ends with CR). */
  dataEntry(len: number): string;
  /** Topic prefix the module connected as `clientId` may publish and subscribe under. */
  topicPrefix(clientId: string): string;
}

const line = (s: string): Buffer => Buffer.from(`${s}\r`, 'latin1');
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ec200: ProfileKit = {
  id: 'quectel-ec200',
  connect: (cid) => ['AT+QMTOPEN=0,"broker.local",1883', `AT+QMTCONN=0,"${cid}"`],
  subscribe: (t, qos, id) => `AT+QMTSUB=0,${id},"${t}",${qos}`,
  // Quectel LTE Standard(A) MQTT AN §3.3.9: OK, then +QMTPUBEX: <client>,<msgID>,<result> (0 = sent/acked).
  publish: (t, p, qos, id) => {
    const msgId = qos === 0 ? 0 : id;
    return {
      sends: [line(`AT+QMTPUBEX=0,${msgId},${qos},0,"${t}",${Buffer.byteLength(p, 'latin1')}`), Buffer.from(p, 'latin1')],
      acked: (out) => out.includes(`\r\n+QMTPUBEX: 0,${msgId},0\r\n`),
    };
  },
  sameId: [
    'AT+QMTSUB=0,1,"a",1\rAT+QMTSUB=0,1,"b",1\r',
    'AT+QMTUNS=0,2,"a"\rAT+QMTUNS=0,2,"b"\r',
    'AT+QMTPUBEX=0,3,1,0,"a",1\rxAT+QMTPUBEX=0,3,1,0,"b",1\ry',
    'AT+QMTSUB=0,4,"a",1\rAT+QMTUNS=0,4,"a"\rAT+QMTPUBEX=0,4,1,0,"a",1\rz',
    'AT+QMTOPEN=0,"broker.local",1883\rAT+QMTOPEN=0,"broker.local",1883\rAT+QMTCONN=0,"fz-ec200"\rAT+QMTCONN=0,"fz-ec200"\r',
    'AT+QMTDISC=0\rAT+QMTSUB=0,5,"a",1\rAT+QMTCLOSE=0\r',
  ],
  dataEntry: (len) => `AT+QMTPUBEX=0,7,1,0,"fz/data",${len}\r`,
  topicPrefix: () => 'fz/',
  // EC200 MQTT AN §3.3.9: every stored message of client 0 (recv/mode 1); the backlog refills slots.
  readBuffer: 'AT+QMTRECV=0',
};

const bc260y: ProfileKit = {
  id: 'quectel-bc260y',
  connect: (cid) => ['AT+QMTOPEN=0,"broker.local",1883', `AT+QMTCONN=0,"${cid}"`],
  subscribe: (t, qos, id) => `AT+QMTSUB=0,${id},"${t}",${qos}`,
  // BC260Y-CN MQTT AN §3.3.8, the one-line form: OK, then +QMTPUB: <id>,<msgid>,<result> (0 = sent/acked).
  publish: (t, p, qos, id) => {
    const msgId = qos === 0 ? 0 : id;
    return {
      sends: [line(`AT+QMTPUB=0,${msgId},${qos},0,"${t}",${Buffer.byteLength(p, 'latin1')},"${p}"`)],
      acked: (out) => out.includes(`\r\n+QMTPUB: 0,${msgId},0\r\n`),
    };
  },
  sameId: [
    'AT+QMTSUB=0,1,"a",1\rAT+QMTSUB=0,1,"b",1\r',
    'AT+QMTUNS=0,2,"a"\rAT+QMTUNS=0,2,"b"\r',
    'AT+QMTPUB=0,3,1,0,"a",1,"x"\rAT+QMTPUB=0,3,1,0,"b",1,"y"\r',
    'AT+QMTPUB=0,4,1,0,"a"\rx\x1aAT+QMTPUB=0,4,1,0,"b"\ry\x1a',
    'AT+QMTSUB=0,5,"a",1\rAT+QMTUNS=0,5,"a"\rAT+QMTPUB=0,5,1,0,"a",1,"z"\r',
    'AT+QMTOPEN=0,"broker.local",1883\rAT+QMTOPEN=0,"broker.local",1883\rAT+QMTCONN=0,"fz-bc260y"\rAT+QMTCONN=0,"fz-bc260y"\r',
    'AT+QMTDISC=0\rAT+QMTSUB=0,6,"a",1\rAT+QMTCLOSE=0\r',
  ],
  dataEntry: (len) => (len % 2 === 0 ? `AT+QMTPUB=0,7,1,0,"fz/data",${len}\r` : 'AT+QMTPUB=0,7,1,0,"fz/data"\r'),
  topicPrefix: () => 'fz/',
};

const ml307: ProfileKit = {
  id: 'onemo-ml307',
  connect: (cid) => [`AT+MQTTCONN=0,"broker.local",1883,"${cid}","",""`],
  subscribe: (t, qos) => `AT+MQTTSUB=0,"${t}",${qos}`,
  // OneMO MQTT manual §3.5: +MQTTPUB: <id>,<mid>,<len> and OK; QoS 1 then +MQTTURC: "puback",<id>,<mid>,<dup>.
  publish: (t, p, qos) => ({
    sends: [line(`AT+MQTTPUB=0,"${t}",${qos},0,0,${Buffer.byteLength(p, 'latin1')},"${p}"`)],
    acked: (out) => {
      const m = /\r\n\+MQTTPUB: 0,(\d+),\d+\r\n\r\nOK\r\n/.exec(out);
      if (!m) return false;
      return qos === 0 || new RegExp(`\\+MQTTURC: "puback",0,${m[1]},0\\r\\n`).test(out);
    },
  }),
  sameId: [
    'AT+MQTTSUB=0,"a",1\rAT+MQTTSUB=0,"b",1\r',
    'AT+MQTTUNSUB=0,"a"\rAT+MQTTUNSUB=0,"b"\r',
    'AT+MQTTPUB=0,"a",1,0,0,1,"x"\rAT+MQTTPUB=0,"b",1,0,0,1,"y"\r',
    'AT+MQTTPUB=0,"a",1,0,0,1\rxAT+MQTTPUB=0,"b",1,0,0,1\ry',
    'AT+MQTTCONN=0,"broker.local",1883,"fz-ml307","",""\rAT+MQTTCONN=0,"broker.local",1883,"fz-ml307","",""\r',
    'AT+MQTTDISC=0\rAT+MQTTSUB=0,"a",1\rAT+MQTTSTATE=0\r',
  ],
  dataEntry: (len) => `AT+MQTTPUB=0,"fz/data",1,0,0,${len}\r`,
  topicPrefix: () => 'fz/',
  // OneMO MQTT manual §3.6: the oldest cached message (cached mode), 601 when the cache is empty.
  readBuffer: 'AT+MQTTREAD=0,1',
};

const tencent: ProfileKit = {
  id: 'tencent-qcloud',
  // The client id is the product and device name (§2.1): each case is its own device.
  connect: (cid) => [`AT+TCDEVINFOSET=1,"CTQS08Y5LG","${cid}","ZHNkIGRzZCA="`, 'AT+TCMQTTCONN=0,5000,240,1,1'],
  subscribe: (t, qos) => `AT+TCMQTTSUB="${t}",${qos}`,
  // Tencent IoT AT §3.2.4: OK, then +TCMQTTPUB:OK once sent (QoS 1: once PUBACK arrived).
  publish: (t, p, qos) => ({
    sends: [line(`AT+TCMQTTPUB="${t}",${qos},"${p}"`)],
    acked: (out) => out.includes('\r\n+TCMQTTPUB:OK\r\n'),
  }),
  sameId: [
    'AT+TCMQTTSUB="CTQS08Y5LG/device1/a",1\rAT+TCMQTTSUB="CTQS08Y5LG/device1/a",1\r',
    'AT+TCMQTTUNSUB="CTQS08Y5LG/device1/a"\rAT+TCMQTTUNSUB="CTQS08Y5LG/device1/a"\r',
    'AT+TCMQTTPUB="CTQS08Y5LG/device1/a",1,"x"\rAT+TCMQTTPUB="CTQS08Y5LG/device1/a",1,"y"\r',
    'AT+TCMQTTPUBL="CTQS08Y5LG/device1/a",1,1\rxAT+TCMQTTPUBL="CTQS08Y5LG/device1/a",1,1\ry',
    'AT+TCMQTTCONN=0,5000,240,1,1\rAT+TCMQTTCONN=0,5000,240,1,1\r',
    'AT+TCMQTTDISCONN\rAT+TCMQTTSUB="CTQS08Y5LG/device1/a",1\rAT+TCMQTTSTATE?\r',
  ],
  dataEntry: (len) => `AT+TCMQTTPUBL="CTQS08Y5LG/device1/data",1,${Math.max(1, len)}\r`,
  topicPrefix: (cid) => `CTQS08Y5LG/${cid}/`,
};

const yuge: ProfileKit = {
  id: 'yuge-clm920',
  connect: (cid) => ['AT+IMQTTMODE=2,0', `AT+IMQTTADDR=broker.local,1883,"${cid}"`, 'AT+IMQTTCONN'],
  subscribe: (t, qos) => `AT+IMQTTSUB=${t},${qos}`,
  // YUGE CLM920 MQTT manual §2.11: OK, then +IMQTTPUB:<packetID>,<status> (0 = success).
  publish: (t, p, qos) => ({
    sends: [line(`AT+IMQTTPUB=${t},${qos},"${p}"`)],
    acked: (out) => /\r\n\+IMQTTT?PUB:\d+,0\r\n/.test(out),
  }),
  sameId: [
    'AT+IMQTTSUB=fz/a,1\rAT+IMQTTSUB=fz/a,1\r',
    'AT+IMQTTUNSUB=fz/a\rAT+IMQTTUNSUB=fz/a\r',
    'AT+IMQTTPUB=fz/a,1,"x"\rAT+IMQTTPUB=fz/a,1,"y"\r',
    'AT+IMQTTPUBEX=fz/a,1,0,1\rxAT+IMQTTPUBEX=fz/a,1,0,1\ry',
    'AT+IMQTTCONN\rAT+IMQTTCONN\r',
    'AT+IMQTTDISCONN\rAT+IMQTTSUB=fz/a,1\rAT+IMQTTSTATE?\r',
  ],
  dataEntry: (len) => `AT+IMQTTPUBEX=fz/data,1,0,${Math.max(1, len)}\r`,
  topicPrefix: () => 'fz/',
  // YUGE CLM920 MQTT manual §2.18: up to 10 cached messages (cache mode), oldest first.
  readBuffer: 'AT+IMQTTRECV=10',
};

export const KITS: Record<string, ProfileKit> = Object.fromEntries([ec200, bc260y, ml307, tencent, yuge].map((k) => [k.id, k]));

export const PROFILE_IDS = Object.keys(KITS);

export { esc as escapeRegExp };
