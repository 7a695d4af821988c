/**
 * The dashboard in a real browser (issue 11): Debian's chromium driven by playwright-core (no
 * browser download), against a whole vmodem with --ui and a python firmware on the PTY.
 * Screenshots are kept in test-artifacts/dashboard/ (gitignored).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { atThenUrc, onCleanup, openAndConnect, startE2e, useE2eCleanup, type E2e } from '../../helpers/e2e-harness.js';
import { requires, which } from '../../helpers/requires.js';
import { startVmodem } from '../../../src/vmodem.js';

const need = requires('chromium', 'python3');
const ARTIFACTS = path.resolve('test-artifacts', 'dashboard');

useE2eCleanup();

describe.skipIf(need.missing)(`dashboard in chromium${need.note}`, () => {
  let browser: Browser;
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: which('chromium')!, args: ['--no-sandbox'] });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** vmodem with the dashboard, a firmware on the PTY (RDY read), and the page open and live. */
  async function open(): Promise<E2e & { page: Page }> {
    const e2e = await startE2e({ control: { port: 0, ui: true } });
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    onCleanup(() => page.close());
    await page.goto(e2e.vm.control!.uiUrl!);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'live' }).count()).toBe(1);
    return { ...e2e, page };
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  const rows = (page: Page, kind: string, text: string) => page.locator(`.log .row.k-${kind}`).filter({ hasText: text });

  it('shows an AT sent by the firmware through the PTY, and its OK', async () => {
    const { page, fw } = await open();
    expect(await fw.at('AT')).toBe('AT\r\r\nOK\r\n');
    await expect.poll(() => rows(page, 'host', 'AT').count()).toBe(1);
    await expect.poll(() => rows(page, 'response', 'OK').count()).toBe(1);
    // The fragment (and its token) is gone from the address bar once read.
    expect(page.url()).not.toContain('token');
    await shot(page, 'at-ok');
  });

  it('"Drop session" makes the module print +QMTSTAT, in the console and at the firmware', async () => {
    const { page, fw } = await open();
    await openAndConnect(fw, 'dash-drop');
    await page.getByRole('button', { name: 'Drop session' }).click();
    await expect.poll(() => rows(page, 'urc', '+QMTSTAT: 0,1').count()).toBe(1);
    expect((await fw.readUntil('+QMTSTAT: 0,1\r\n')).text).toContain('+QMTSTAT: 0,1');
    await shot(page, 'drop-session');
  });

  it('"Pull SIM" from the keyboard prints +CPIN: NOT READY in the console and at the firmware, "Insert SIM" +CPIN: READY; the registration selector denies with a cause; no Wi-Fi controls on a cellular module', async () => {
    const { page, fw } = await open();
    const faults = page.getByRole('region', { name: 'Faults' });
    expect(await faults.getByRole('button', { name: 'Access point off the air' }).count()).toBe(0);
    await faults.getByRole('button', { name: 'Pull SIM' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows(page, 'urc', '+CPIN: NOT READY').count()).toBe(1);
    expect((await fw.readUntil('+CPIN: NOT READY\r\n')).text).toContain('\r\n+CPIN: NOT READY\r\n');
    await expect.poll(() => faults.getByRole('button', { name: 'Insert SIM' }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.getByRole('region', { name: 'Module' }).textContent()).toContain('removed');
    await shot(page, 'sim-out');
    await faults.getByRole('button', { name: 'Insert SIM' }).focus();
    await page.keyboard.press('Space');
    await expect.poll(() => rows(page, 'urc', '+CPIN: READY').count()).toBe(1);
    // Registration through the selector: denied with its reject cause.
    await faults.getByLabel('Registration').selectOption('denied');
    await faults.getByLabel('Reject cause').fill('11');
    await faults.getByRole('button', { name: 'Set registration' }).click();
    await expect.poll(() => faults.getByText('Registration denied: done').count()).toBe(1);
    await expect.poll(() => page.getByRole('region', { name: 'Module' }).textContent()).toContain('registration denied (cause 11)');
    await shot(page, 'registration-denied');
  });

  it('on a Wi-Fi module the access point goes off the air from the panel, and the station reports it', async () => {
    const vm = await startVmodem({ profile: 'tencent-qcloud', link: null, mqttPort: 0, timing: 'fast', control: { port: 0, ui: true } });
    onCleanup(() => vm.stop());
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    onCleanup(() => page.close());
    await page.goto(vm.control!.uiUrl!);
    const faults = page.getByRole('region', { name: 'Faults' });
    await faults.getByRole('button', { name: 'Access point off the air' }).click();
    await expect.poll(() => (vm.modems[0]!.controller.inspect().wifi as { apPresent: boolean }).apPresent).toBe(false);
    await expect.poll(() => faults.getByRole('button', { name: 'Access point back' }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => page.getByRole('region', { name: 'Module' }).textContent()).toContain('access point off the air');
    await expect.poll(() => faults.getByLabel(/Wi-Fi signal/).count()).toBe(1);
    await shot(page, 'wifi-ap-off');
  });

  it('a publish from the form reaches the firmware end of the PTY as +QMTRECV', async () => {
    const { page, fw } = await open();
    await openAndConnect(fw, 'dash-pub');
    await atThenUrc(fw, 'AT+QMTSUB=0,1,"dash/down",1', '+QMTSUB: 0,1,0,1');
    const form = page.getByRole('form', { name: 'Publish to the device' });
    await form.getByLabel('Topic').fill('dash/down');
    await form.getByLabel('Payload').fill('{"led":"on"}');
    await form.getByRole('button', { name: 'Publish' }).click();
    expect((await fw.readUntil(/\+QMTRECV: [^\r]*\r\n/)).text).toMatch(/\+QMTRECV: 0,\d+,"dash\/down","\{"led":"on"\}"\r\n$/);
    await expect.poll(() => page.getByRole('treeitem').filter({ hasText: 'down' }).count()).toBeGreaterThan(0);
    await shot(page, 'publish');
  });

  it('the terminal is read-only while the firmware holds the port; taken over, ATI typed there shows the identity', async () => {
    const { page } = await open();
    const terminal = page.getByRole('region', { name: 'Terminal' });
    await expect.poll(() => terminal.getByRole('status').textContent()).toContain('read-only');
    await terminal.getByRole('button', { name: 'Take over terminal' }).click();
    await expect.poll(() => terminal.getByRole('status').textContent()).toContain('taken over');
    await terminal.locator('.xterm').click();
    await page.keyboard.type('ATI\r');
    await expect.poll(() => terminal.locator('.xterm-rows').textContent()).toContain('Revision: EC200UCNAAR03A11M08');
    await expect.poll(() => rows(page, 'host', 'ATI').count()).toBe(1);
    await shot(page, 'terminal-ati');
  });

  it('a wrong token gets the login prompt and no data', async () => {
    const e2e = await startE2e({ control: { port: 0, ui: true } });
    const page = await browser.newPage();
    onCleanup(() => page.close());
    const answers: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/v1/')) answers.push(r.status());
    });
    await page.goto(`${e2e.vm.control!.url}/#token=wrong-token-123456`);
    await expect.poll(() => page.getByLabel('Control token').count()).toBe(1);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the one');
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((s) => s === 401)).toBe(true);
    expect(await page.locator('.log').count()).toBe(0);
    expect(await page.content()).not.toContain(e2e.vm.modems[0]!.imei);
    await shot(page, 'wrong-token');
  });
});
