/** A PINGREQ schedule of its own (OneMO "pingreq"): CONNECT announces keepalive, pings follow the interval. */
import { afterEach, expect, it } from 'vitest';
import { openLink } from '../../src/mqtt/link.js';
import type { MqttLink } from '../../src/mqtt/types.js';
import { startFakeBroker, type FakeBroker } from './fake-broker.js';

let fake: FakeBroker | undefined;
let link: MqttLink | undefined;
afterEach(async () => {
  link?.destroy();
  await fake?.close();
});

it('announces <keepalive> in CONNECT and sends PINGREQ at pingIntervalSec', async () => {
  fake = await startFakeBroker();
  link = await openLink({ target: { host: '127.0.0.1', port: fake.port, tls: false }, timeoutMs: 2000 });
  const outcome = await link.connect({ clientId: 'p', protocolVersion: 4, keepalive: 600, pingIntervalSec: 1, clean: true, timeoutMs: 2000 });
  expect(outcome.kind).toBe('accepted');
  await new Promise<void>((resolve) => link!.once('pingresp', () => resolve()));
  const connect = fake.received.find((p) => p.cmd === 'connect') as { keepalive?: number } | undefined;
  expect(connect?.keepalive).toBe(600);
  expect(fake.received.some((p) => p.cmd === 'pingreq')).toBe(true);
});
