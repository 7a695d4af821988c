/**
 * Which modem owns which client id on a shared embedded broker (src/control/client-owners.ts):
 * publishes reach only their owner, broker faults apply only to the owner's clients, ids learned
 * later count, and a forgotten owner gets nothing.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type BrokerPublish } from '../../src/broker/embedded-broker.js';
import type { ClientRules } from '../../src/control/broker-faults.js';
import { ownClients, type ClientOwner } from '../../src/control/client-owners.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function owner(ids: string[]) {
  const set = new Set(ids);
  const listeners = new Set<(id: string) => void>();
  const seen: string[] = [];
  const rules: ClientRules = { refuseSubscribe: [], refusePublish: [] };
  const o: ClientOwner = {
    ids: set,
    onNewId: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onPublish: (p: BrokerPublish) => seen.push(`${p.clientId}:${p.topic}`),
    rules: () => rules,
  };
  const learn = (id: string) => {
    set.add(id);
    for (const l of listeners) l(id);
  };
  return { o, seen, rules, learn };
}

describe('client owners on a shared broker', () => {
  it('hands each publish to the owner of its client id only, and applies only that owner’s faults', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const a = owner(['a1']);
    const b = owner([]);
    const offA = ownClients(broker, a.o);
    cleanups.push(ownClients(broker, b.o));
    b.learn('b1');
    b.rules.refusePublish.push('secret/#');

    const connect = async (id: string) => {
      const c = await mqtt.connectAsync(`mqtt://${broker.host}:${broker.port}`, { clientId: id, reconnectPeriod: 0 });
      cleanups.push(() => c.endAsync(true));
      return c;
    };
    const [a1, b1, x] = await Promise.all([connect('a1'), connect('b1'), connect('x')]);
    await a1.publishAsync('t/a', 'one', { qos: 1 });
    await b1.publishAsync('t/b', 'two', { qos: 1 });
    await x.publishAsync('t/x', 'three', { qos: 1 });
    // A's publish to a topic B may not use passes; B's is refused (the broker drops B).
    await a1.publishAsync('secret/a', 'four', { qos: 1 });
    const closed = new Promise<void>((resolve) => b1.once('close', () => resolve()));
    b1.publish('secret/b', 'five', { qos: 1 });
    await closed;

    expect(a.seen).toEqual(['a1:t/a', 'a1:secret/a']);
    expect(b.seen).toEqual(['b1:t/b']);

    offA();
    await a1.publishAsync('t/a', 'six', { qos: 1 });
    expect(a.seen).toEqual(['a1:t/a', 'a1:secret/a']);
  });
});
