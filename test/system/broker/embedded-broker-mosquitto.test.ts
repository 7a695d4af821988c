/**
 * The embedded Aedes broker (src/broker/embedded-broker.ts) with Debian's mosquitto_pub and
 * mosquitto_sub as third-party clients (moved from test/broker/embedded-broker.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embedded-broker.js';
import { mosquittoPub, mosquittoSub, startMosquittoSub } from '../../helpers/mosquitto.js';
import { requires } from '../../helpers/requires.js';

const need = requires('mosquitto_sub', 'mosquitto_pub');

const brokers: EmbeddedBroker[] = [];

afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function start(opts: Parameters<typeof startEmbeddedBroker>[0] = { port: 0 }): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker(opts);
  brokers.push(b);
  return b;
}

describe.skipIf(need.missing)(`startEmbeddedBroker with mosquitto clients${need.note}`, () => {
  it('interoperates with mosquitto_pub and mosquitto_sub', async () => {
    const b = await start();
    const sub = startMosquittoSub(b.port, 'interop/#', { count: 1, withFlags: true, qos: 1 });
    await sub.ready;
    await mosquittoPub(b.port, 'interop/x', 'via aedes', { qos: 1 });
    expect(await sub.done).toEqual([{ topic: 'interop/x', payload: 'via aedes', retain: false, qos: 1 }]);

    await mosquittoPub(b.port, 'interop/kept', 'retained', { qos: 0, retain: true });
    expect(await mosquittoSub(b.port, 'interop/kept', { withFlags: true })).toEqual([
      { topic: 'interop/kept', payload: 'retained', retain: true, qos: 0 },
    ]);
  });
});
