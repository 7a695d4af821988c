/**
 * The README's "Testing from TypeScript" example, as a file the test suite runs (npm test).
 * Copy it into your project: `npm install --save-dev vmodem vitest`, replace startMyFirmware with
 * your firmware, run `npx vitest`.
 */
import { startModem } from 'vmodem';
import { expect, it, onTestFailed } from 'vitest';
import { startMyFirmware } from './tiny-firmware.js';

// A PTY test takes a few seconds: give it more than vitest's default 5 s, and more than the
// expectations' own timeouts (5 s each), so a miss ends with vmodem's message, not vitest's.
it('the firmware comes back after the broker drops its session', { timeout: 30_000 }, async () => {
  const modem = await startModem({ profile: 'quectel-ec200' }); // stopped when the test ends, even on a timeout
  const firmware = startMyFirmware(modem.link);                 // your firmware (or its host build) on the PTY
  onTestFailed(() => console.log(modem.transcript()));          // `> …` host lines, `< …` modem lines
  try {
    // Resolves once the device also has its PUBACK: dropping the session now cannot fail it.
    const hello = await modem.expectPublish({ topic: 'dev/+/state', payload: 'online' });
    expect(hello.qos).toBe(1);

    const mark = modem.published().length;
    modem.dropSession();                                      // the broker closes the device's socket…
    await modem.expectUrc(/\+QMTSTAT: 0,1/);                  // …and the module tells the firmware
    await modem.expectPublish({ topic: 'dev/+/state', payload: 'online' }, { since: mark });

    await modem.publish({ topic: 'dev/42/down', payload: '{"led":1}', qos: 1 });
    await modem.expectUrc(/^\+QMTRECV: 0,\d+,"dev\/42\/down"/);
    await expect.poll(() => firmware.received).toEqual(['{"led":1}']);
  } finally {
    firmware.stop();
    await modem.stop();
  }
});
