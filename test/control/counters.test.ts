/**
 * The controller's counters, in process (in-memory serial port, embedded broker on loopback):
 * `publishesDown` counts the broker's publishes to the device whether or not anyone watches the
 * event stream (it used to stay 0 without a listener).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { ModemController, publishLogSize } from '../../src/control/controller.js';
import { NetworkFaults } from '../../src/control/network-faults.js';
import { brokerLinkOpener } from '../../src/modem/link-opener.js';
import { Modem } from '../../src/modem/modem.js';
import { COMMAND_SETS } from '../../src/vendors/registry.js';
import { MemoryPort } from '../../src/port/memory-port.js';
import { PacedPort } from '../../src/port/paced-port.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { silentLogger } from '../../src/util/logger.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function controlled(broker: EmbeddedBroker) {
  const log = silentLogger();
  const port = new MemoryPort();
  const serial = new PacedPort(port);
  const endpoint = { host: broker.host, port: broker.port };
  const faults = await NetworkFaults.create(brokerLinkOpener({ plain: endpoint }, log), endpoint, log);
  cleanups.push(() => faults.close());
  const modem = new Modem({ profile: loadProfile('quectel-ec200'), port: serial, log, links: faults.opener, commandSets: COMMAND_SETS, timing: 'fast', bootUrcs: false });
  modem.engine.settings.echo = false;
  cleanups.push(() => modem.stop());
  const controller = new ModemController({ name: 'modem0', index: 0, modem, port: serial, faults, broker });
  cleanups.push(() => controller.dispose());
  const output = () => port.host.received.toString('latin1');
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (output().includes(text)) return resolve();
      const t = setTimeout(() => (off(), reject(new Error(`no ${text}; output: ${JSON.stringify(output())}`))), 5000);
      const off = port.host.onData(() => {
        if (output().includes(text)) {
          off();
          clearTimeout(t);
          resolve();
        }
      });
    });
  const at = async (line: string, until: string) => {
    port.host.send(`${line}\r`);
    await waitFor(until);
  };
  return { controller, at, waitFor };
}

describe('ModemController counters', () => {
  it('counts publishes down to the device with no event listener attached', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const { controller, at, waitFor } = await controlled(broker);
    expect(controller.listenerCount('event')).toBe(0);

    await at(`AT+QMTOPEN=0,"${broker.host}",${broker.port}`, '+QMTOPEN: 0,0');
    await at('AT+QMTCONN=0,"count-dev"', '+QMTCONN: 0,0,0');
    await at('AT+QMTSUB=0,1,"down/#",1', '+QMTSUB: 0,1,0,1');
    await controller.publish({ topic: 'down/a', payload: Buffer.from('one'), qos: 1 });
    await waitFor('+QMTRECV: 0,');
    await controller.publish({ topic: 'down/b', payload: Buffer.from('two'), qos: 0 });
    await waitFor('"down/b"');

    expect(controller.listenerCount('event')).toBe(0);
    expect(controller.counters.publishesDown).toBe(2);
    expect(controller.inspect()).toMatchObject({ counters: { publishesDown: 2 } });
  });
});

describe('the publish log of each modem', () => {
  it('keeps 10,000 publishes per modem, 200,000 shared once the process runs more than 20, at least 100 each', () => {
    expect(publishLogSize(1)).toBe(10_000);
    expect(publishLogSize(20)).toBe(10_000);
    expect(publishLogSize(1000)).toBe(200);
    expect(publishLogSize(10_000)).toBe(100);
  });
});
