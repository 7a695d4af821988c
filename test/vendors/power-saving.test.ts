/**
 * Power saving (issue 13) on memory modems with the profiles' real figures on a TestClock:
 * AT+CPSMS / AT+CEDRXS / AT+CSCON (3GPP TS 27.007 §7.38, §7.40, §10.1.30) where the module has
 * them, the BC260Y entering PSM after the RRC release plus T3324 with its URCs, downlink held until
 * it leaves PSM (uplink or T3412), and deep sleep with AT+QSCLK=1 (the waking line is lost).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { loadProfile } from '../../src/profiles/load-profile.js';
import { TestClock } from '../../src/util/clock.js';
import { createMemoryModem, type MemoryModem } from '../helpers/memory-modem.js';

const OK = '\r\nOK\r\n';
const reply = (...lines: string[]) => `\r\n${lines.join('\r\n')}\r\n${OK}`;
const urc = (line: string) => `\r\n${line}\r\n`;
const cme = (n: number) => `\r\n+CME ERROR: ${n}\r\n`;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

interface Radio {
  psm: { activeTimeS: number; periodicTauS: number };
  powerSaving: { rrcInactivityMs: number; apIdleMs: number };
}
const radio = loadProfile('quectel-bc260y').settings.radio as Radio;

async function bc260y(broker?: EmbeddedBroker): Promise<{ m: MemoryModem; clock: TestClock }> {
  const clock = new TestClock();
  const m = createMemoryModem('quectel-bc260y', { clock, timing: 'real', ...(broker ? { broker: broker.aedes } : {}) });
  closers.push(() => m.stop());
  expect(await m.at('AT+CMEE=1')).toBe(OK);
  return { m, clock };
}

async function embedded(): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker({ port: 0 });
  closers.push(() => b.close());
  return b;
}

function cloudPublish(broker: EmbeddedBroker, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false, messageId: 0 } as never, (err?: Error) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/** PSM reports on, no deep sleep, PSM asked for; resolves once the module is in PSM. */
async function intoPsm(m: MemoryModem, clock: TestClock): Promise<number> {
  expect(await m.at('AT+QNBIOTEVENT=1,1')).toBe(OK);
  expect(await m.at('AT+CSCON=1')).toBe(OK);
  expect(await m.at('AT+CPSMS=1')).toBe(OK);
  const t0 = clock.now();
  await m.waitFor('+QNBIOTEVENT: "ENTER PSM"\r\n', 200_000);
  return clock.now() - t0;
}

describe('power-saving commands per profile', () => {
  it('the BC260Y has AT+CPSMS, AT+CEDRXS and AT+CSCON with the 27.007 forms', async () => {
    const { m } = await bc260y();
    expect(await m.at('AT+CPSMS=?')).toBe(reply('+CPSMS: (0-2),,,("00000000"-"11111111"),("00000000"-"11111111")'));
    expect(await m.at('AT+CPSMS?')).toBe(reply('+CPSMS: 0,,,,'));
    expect(await m.at('AT+CPSMS=1,,,"01000011","00000101"')).toBe(OK);
    expect(await m.at('AT+CPSMS?')).toBe(reply('+CPSMS: 1,,,"01000011","00000101"'));
    // The granted timers follow the request (T3412 3 × 30 s, T3324 5 × 2 s).
    expect(await m.at('AT+CEREG=4')).toBe(OK);
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 4,1,"5E21","0B3C4D12",9,,,"00000101","01000011"'));
    expect(await m.at('AT+CPSMS=1,,,"0100001"')).toBe(cme(50));
    expect(await m.at('AT+CPSMS=1,,,"11100001"')).toBe(cme(50));
    expect(await m.at('AT+CPSMS=2')).toBe(OK);
    expect(await m.at('AT+CPSMS?')).toBe(reply('+CPSMS: 0,,,,'));
    expect(await m.at('AT+CEREG?')).toBe(reply('+CEREG: 4,1,"5E21","0B3C4D12",9'));

    expect(await m.at('AT+CEDRXS=?')).toBe(reply('+CEDRXS: (0-3),(5),("0000"-"1111")'));
    expect(await m.at('AT+CEDRXS?')).toBe(OK);
    expect(await m.at('AT+CEDRXS=1,5,"0101"')).toBe(OK);
    expect(await m.at('AT+CEDRXS?')).toBe(reply('+CEDRXS: 5,"0101"'));
    expect(await m.at('AT+CEDRXS=1,4,"0101"')).toBe(cme(50));
    m.clear();
    expect(await m.at('AT+CEDRXS=2,5,"0011"')).toBe(OK);
    expect(await m.waitFor('+CEDRXP')).toBe(`${OK}${urc('+CEDRXP: 5,"0011","0101","0011"')}`);
    expect(await m.at('AT+CEDRXS=3')).toBe(OK);
    expect(await m.at('AT+CEDRXS?')).toBe(OK);

    expect(await m.at('AT+CSCON=?')).toBe(reply('+CSCON: (0-3)'));
    expect(await m.at('AT+CSCON?')).toBe(reply('+CSCON: 0,1'));
    expect(await m.at('AT+CSCON=3')).toBe(OK);
    expect(await m.at('AT+CSCON?')).toBe(reply('+CSCON: 3,1,7,4'));
    expect(await m.at('AT+CSCON=4')).toBe(cme(50));
    expect(await m.at('AT+QNBIOTEVENT=?')).toBe(reply('+QNBIOTEVENT: (0,1),(1)'));
    expect(await m.at('AT+QNBIOTEVENT?')).toBe(reply('+QNBIOTEVENT: 0,1'));
    expect(await m.at('AT+QCFG="dsevent"')).toBe(reply('+QCFG: "dsevent",1'));
  });

  it('the Cat-1 and Wi-Fi profiles do not have them (no evidence their modules do; see the profile notes)', async () => {
    for (const id of ['quectel-ec200', 'onemo-ml307', 'yuge-clm920', 'tencent-qcloud']) {
      const m = createMemoryModem(id);
      closers.push(() => m.stop());
      for (const line of ['AT+CPSMS?', 'AT+CEDRXS?', 'AT+CSCON?', 'AT+QNBIOTEVENT?']) expect(await m.at(line)).toMatch(/ERROR/);
    }
  });
});

describe('the BC260Y enters and leaves PSM on the clock', () => {
  it('after AT+CPSMS=1 the RRC connection is released after the inactivity time, then T3324 runs and the module reports ENTER PSM', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QNBIOTEVENT=1,1')).toBe(OK);
    expect(await m.at('AT+CSCON=1')).toBe(OK);
    m.clear();
    expect(await m.at('AT+CPSMS=1')).toBe(OK);
    const t0 = clock.now();
    // The request is negotiated with a TAU: connected, released, T3324, PSM.
    expect(await m.waitFor('+CSCON: 1\r\n')).toBe(`${OK}${urc('+CSCON: 1')}`);
    await m.waitFor('+CSCON: 0\r\n', 100_000);
    expect(clock.now() - t0).toBe(radio.powerSaving.rrcInactivityMs);
    await m.waitFor('+QNBIOTEVENT: "ENTER PSM"\r\n', 200_000);
    expect(clock.now() - t0).toBe(radio.powerSaving.rrcInactivityMs + radio.psm.activeTimeS * 1000);
    expect(m.modem.powerSaving.inPsm).toBe(true);
    // With AT+QSCLK=0 the UART still answers in PSM.
    expect(await m.at('AT+CSCON?')).toBe(reply('+CSCON: 1,0'));
    // The periodic TAU (T3412) ends PSM by itself.
    m.clear();
    const t1 = clock.now();
    await m.waitFor('+CSCON: 1\r\n', 4_000_000);
    expect(clock.now() - t1).toBe(radio.psm.periodicTauS * 1000);
    expect(m.output()).toBe(`${urc('+QNBIOTEVENT: "EXIT PSM"')}${urc('+CSCON: 1')}`);
  });

  it('without AT+CPSMS=1 the module never enters PSM; AT+CPSMS=0 ends the request', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QNBIOTEVENT=1,1')).toBe(OK);
    await clock.advance(600_000);
    expect(m.modem.powerSaving.inPsm).toBe(false);
    expect(await m.at('AT+CPSMS=1')).toBe(OK);
    expect(await m.at('AT+CPSMS=0')).toBe(OK);
    await clock.advance(600_000);
    expect(m.modem.powerSaving.inPsm).toBe(false);
    expect(m.output()).not.toContain('ENTER PSM');
  });

  it('a downlink MQTT message waits while the module is in PSM and arrives when an uplink request wakes it', async () => {
    const broker = await embedded();
    const { m, clock } = await bc260y(broker);
    expect(await m.at('AT+QMTOPEN=0,"broker",1883')).toBe(OK);
    await m.waitFor('+QMTOPEN: 0,0\r\n', 20_000);
    expect(await m.at('AT+QMTCONN=0,"psm-dev"')).toBe(OK);
    await m.waitFor('+QMTCONN: 0,0,0\r\n', 20_000);
    expect(await m.at('AT+QMTSUB=0,1,"down",0')).toBe(OK);
    await m.waitFor('+QMTSUB: 0,1,0,0\r\n', 20_000);
    await intoPsm(m, clock);
    m.clear();
    await cloudPublish(broker, 'down', 'held');
    // Plenty of module time inside T3412: nothing reaches the module.
    await clock.advance(120_000);
    expect(m.output()).toBe('');
    // Uplink (a publish) leaves PSM; the held message follows the EXIT PSM report.
    expect(await m.at('AT+QMTPUB=0,0,0,0,"up",2,"hi"')).toBe(OK);
    const out = await m.waitFor('+QMTRECV: 0,0,"down","held"\r\n', 20_000);
    expect(out.indexOf('+QNBIOTEVENT: "EXIT PSM"')).toBeGreaterThan(-1);
    expect(out.indexOf('+QNBIOTEVENT: "EXIT PSM"')).toBeLessThan(out.indexOf('+QMTRECV'));
  });

  it('a downlink message held in PSM arrives at the periodic TAU without any uplink', async () => {
    const broker = await embedded();
    const { m, clock } = await bc260y(broker);
    expect(await m.at('AT+QMTOPEN=0,"broker",1883')).toBe(OK);
    await m.waitFor('+QMTOPEN: 0,0\r\n', 20_000);
    expect(await m.at('AT+QMTCONN=0,"psm-tau"')).toBe(OK);
    await m.waitFor('+QMTCONN: 0,0,0\r\n', 20_000);
    expect(await m.at('AT+QMTSUB=0,1,"down",0')).toBe(OK);
    await m.waitFor('+QMTSUB: 0,1,0,0\r\n', 20_000);
    await intoPsm(m, clock);
    const entered = clock.now();
    m.clear();
    await cloudPublish(broker, 'down', 'tau');
    await m.waitFor('+QMTRECV: 0,0,"down","tau"\r\n', 4_000_000);
    expect(clock.now() - entered).toBe(radio.psm.periodicTauS * 1000);
    expect(m.output().startsWith(urc('+QNBIOTEVENT: "EXIT PSM"'))).toBe(true);
  });
});

describe('deep sleep (AT+QSCLK=1) and the UART wake-up', () => {
  it('in PSM the module sleeps; the line that wakes it is lost, the next is answered, and it sleeps again when the UART is idle', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    m.clear();
    await intoPsm(m, clock);
    await m.waitFor('+QNBIOTEVENT: "ENTER DEEPSLEEP"\r\n');
    expect(m.output()).toContain(`${urc('+QNBIOTEVENT: "ENTER PSM"')}${urc('+QNBIOTEVENT: "ENTER DEEPSLEEP"')}`);
    expect(m.modem.powerSaving.asleep).toBe(true);
    m.clear();
    // The first AT only wakes the module (BC660K-GL/BC260Y hardware design §3.4.2).
    m.send('AT\r');
    await m.waitFor('+QNBIOTEVENT: "EXIT DEEPSLEEP"\r\n');
    expect(m.output()).toBe(urc('+QNBIOTEVENT: "EXIT DEEPSLEEP"'));
    expect(await m.at('AT')).toBe(OK);
    // Still in PSM: the UART wake-up sent nothing to the network.
    expect(m.modem.powerSaving.inPsm).toBe(true);
    m.clear();
    const t0 = clock.now();
    await m.waitFor('+QNBIOTEVENT: "ENTER DEEPSLEEP"\r\n', 60_000);
    expect(clock.now() - t0).toBe(radio.powerSaving.apIdleMs);
    expect(m.modem.powerSaving.asleep).toBe(true);
  });

  it('AT+QCFG="dsevent",0 silences the deep-sleep reports; the waking line is still lost', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QCFG="dsevent",0')).toBe(OK);
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    await intoPsm(m, clock);
    await clock.advance(1000);
    expect(m.output()).not.toContain('DEEPSLEEP');
    expect(m.modem.powerSaving.asleep).toBe(true);
    m.clear();
    m.send('AT+CSQ\r');
    await clock.advance(10);
    expect(m.output()).toBe('');
    expect(await m.at('AT+CSQ')).toBe(reply('+CSQ: 24,99'));
  });

  it('the periodic TAU wakes a sleeping module: EXIT DEEPSLEEP, then EXIT PSM', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    await intoPsm(m, clock);
    m.clear();
    await m.waitFor('+QNBIOTEVENT: "EXIT PSM"\r\n', 4_000_000);
    expect(m.output()).toContain(`${urc('+QNBIOTEVENT: "EXIT DEEPSLEEP"')}${urc('+QNBIOTEVENT: "EXIT PSM"')}`);
    expect(m.modem.powerSaving.asleep).toBe(false);
  });

  it('a reset ends PSM and deep sleep and forgets AT+CPSMS and AT+QSCLK', async () => {
    const { m, clock } = await bc260y();
    expect(await m.at('AT+QSCLK=1')).toBe(OK);
    await intoPsm(m, clock);
    m.modem.reboot();
    await m.waitFor('RDY\r\n', 10_000);
    expect(m.modem.powerSaving.inPsm).toBe(false);
    expect(m.modem.powerSaving.asleep).toBe(false);
    // Echo is back on after the reset (power-on ATE1).
    expect(await m.at('ATE0')).toBe(`ATE0\r${OK}`);
    expect(await m.at('AT+QSCLK?')).toBe(reply('+QSCLK: 0'));
    expect(await m.at('AT+CPSMS?')).toBe(reply('+CPSMS: 0,,,,'));
  });
});
