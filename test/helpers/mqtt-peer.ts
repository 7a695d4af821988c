/**
 * An independent MQTT client (mqtt.js, from `npm install`) as the cloud-side peer of a test: it
 * subscribes or publishes on a broker the way mosquitto_sub / mosquitto_pub do in the system suite
 * (test/helpers/mosquitto.ts), with the same shapes, so the default suite needs no Debian package.
 */
import mqtt from 'mqtt';
import type { ReceivedMessage } from './mosquitto.js';

export interface MqttSubOptions {
  /** Done after this many messages. Default 1. */
  count?: number;
  /** Done (with what came) after this long. Default 5000. */
  timeoutMs?: number;
  qos?: 0 | 1 | 2;
}

export interface MqttSub {
  /** Resolves when the subscription is active on the broker (SUBACK). */
  ready: Promise<void>;
  /** The messages received: `count` of them, or fewer when the timeout ended the wait. */
  done: Promise<ReceivedMessage[]>;
  kill(): void;
}

let seq = 0;

/** Subscribe to `topic` on 127.0.0.1:`port` and collect messages (like startMosquittoSub). */
export function startMqttSub(port: number, topic: string, opts: MqttSubOptions = {}): MqttSub {
  const count = opts.count ?? 1;
  const client = mqtt.connect({ host: '127.0.0.1', port, clientId: `test-peer-sub-${process.pid}-${++seq}`, reconnectPeriod: 0 });
  const got: ReceivedMessage[] = [];
  let finish!: () => void;
  const done = new Promise<ReceivedMessage[]>((resolve) => {
    finish = () => {
      clearTimeout(timer);
      client.end(true);
      resolve(got);
    };
  });
  const timer = setTimeout(() => finish(), opts.timeoutMs ?? 5000);
  const ready = new Promise<void>((resolve, reject) => {
    client.once('connect', () => {
      client.subscribe(topic, { qos: opts.qos ?? 0 }, (err) => (err ? reject(err) : resolve()));
    });
    client.once('error', reject);
  });
  // A failed connect shows in `ready`; `done` then resolves with nothing at the timeout.
  ready.catch(() => undefined);
  client.on('message', (t, payload) => {
    if (got.length >= count) return;
    got.push({ topic: t, payload: payload.toString('utf8') });
    if (got.length >= count) finish();
  });
  return { ready, done, kill: () => finish() };
}

/** Publish one message to 127.0.0.1:`port` and disconnect (like mosquittoPub). */
export async function mqttPub(port: number, topic: string, payload: string | Buffer, opts: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, clientId: `test-peer-pub-${process.pid}-${++seq}`, reconnectPeriod: 0 });
  try {
    await client.publishAsync(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
  } finally {
    await client.endAsync();
  }
}
