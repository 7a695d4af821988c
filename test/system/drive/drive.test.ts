/**
 * `vmodem start --drive` through the real PTY (issue 12 §2): the built bin/vmodem with a fleet of
 * modems, each driven by fixtures/drive/quectel-ec200-telemetry.at on its own serial device; a
 * plain MQTT subscriber sees every modem's readings.
 */
import path from 'node:path';
import mqtt from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCleanup, ROOT, spawnCli, uniqueLink, useCliCleanup, waitForStdout } from '../../cli/helpers.js';
import { ensureDist } from '../../api/ensure-dist.js';

useCliCleanup();
beforeAll(() => ensureDist(['cli/main.ts', 'vmodem.ts', 'demo/drive-fleet.ts', 'demo/drive-runner.ts', 'demo/drive-script.ts']), 120_000);

describe('vmodem start --drive (spawned bin/vmodem, PTY)', { timeout: 90_000 }, () => {
  it('every modem of the fleet connects through its PTY and publishes the script\'s readings', async () => {
    const script = path.join(ROOT, 'fixtures/drive/quectel-ec200-telemetry.at');
    const run = spawnCli(['start', '--count', '3', '--link', `${uniqueLink()}-d0`, '--mqtt-port', '0', '--timing', 'fast', '--log-level', 'warn', '--drive', script]);
    const banner = await waitForStdout(run, 'Ctrl+C stops.', 30_000);
    expect(banner).toContain(`drive:   ${script} on each of 3 modems`);
    const port = Number(/broker: {2}mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(banner)![1]);
    const imeis = [...banner.matchAll(/IMEI (\d{15})/g)].map((m) => m[1]!);
    expect(imeis).toHaveLength(3);

    const sub = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'observer', reconnectPeriod: 0 });
    onCleanup(() => sub.end(true));
    const seen = new Map<string, { seq: number; clientId?: string }[]>();
    sub.on('message', (topic, payload) => {
      const imei = topic.split('/')[1]!;
      seen.set(imei, [...(seen.get(imei) ?? []), JSON.parse(payload.toString()) as { seq: number }]);
    });
    await new Promise<void>((resolve, reject) => sub.once('connect', () => sub.subscribe('fleet/+/telemetry', { qos: 1 }, (e) => (e ? reject(e) : resolve()))));
    const deadline = Date.now() + 45_000;
    while (!imeis.every((i) => (seen.get(i)?.length ?? 0) >= 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    for (const imei of imeis) {
      const readings = seen.get(imei) ?? [];
      expect(readings.length, `readings from ${imei}`).toBeGreaterThanOrEqual(2);
      // Consecutive sequence numbers: the loop runs once per period, nothing is skipped.
      expect(readings[1]!.seq - readings[0]!.seq).toBe(1);
    }
  });
});
