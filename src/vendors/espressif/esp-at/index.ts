/**
 * The ESP-AT command set for modules built on Espressif's AT firmware (the ESP8266 v2.x command
 * set: ESP-AT User Guide, release/v2.1.0.0_esp8266 and v2.2.0.0_esp8266 — Basic, Wi-Fi and the
 * TCP/IP commands drivers use during bring-up). Profiles enable it as "esp-at" next to the
 * vendor's own set (Tencent's QCloud AT firmware is ESP-AT plus the AT+TC* commands).
 *
 * AT, ATE0/ATE1 and the V.250 basics come from the `common` set. The Wi-Fi station and its
 * access point are the modem's (src/modem/wifi-station.ts, profile settings.wifi); this set prints
 * ESP-AT's Wi-Fi messages from its events: `WIFI CONNECTED`, `WIFI GOT IP`, `WIFI DISCONNECT`
 * (ESP-AT "AT Messages"). While AT+CWJAP runs, its messages are part of its response instead.
 */
import type { CommandSet, Device } from '../../../modem/device.js';
import { cifsrCommand } from './cifsr.js';
import { cipmodeCommand } from './cipmode.js';
import { cipstaCommand } from './cipsta.js';
import { cipstamacCommand } from './cipstamac.js';
import { ESP_AT_SET_ID, type EspAtContext, type EspAtProfileData, type EspAtState } from './context.js';
import { cwautoconnCommand } from './cwautoconn.js';
import { cwjapCommand } from './cwjap.js';
import { cwmodeCommand } from './cwmode.js';
import { cwqapCommand } from './cwqap.js';
import { cwstateCommand } from './cwstate.js';
import { gmrCommand } from './gmr.js';
import { restoreCommand } from './restore.js';
import { rstCommand } from './rst.js';
import { sleepCommand } from './sleep.js';
import { sysramCommand } from './sysram.js';
import { sysstoreCommand } from './sysstore.js';
import { uartCurCommand } from './uart-cur.js';
import { uartDefCommand } from './uart-def.js';

export { ESP_AT_SET_ID } from './context.js';

const DEFAULTS: EspAtProfileData = {
  gmr: ['AT version:2.1.0.0(4f6b92c - Jun 10 2020 10:36:54)', 'SDK version:v3.2-192-g81655f3e', 'compile time(b498b1c):Aug 18 2020 11:39:32', 'Bin version:2.1.0(WROOM-02)'],
  uart: [115200, 8, 1, 0, 0],
  cwjapFailFinal: 'ERROR',
  sysram: [40612, 37436],
};

export function espAtCommandSet(device: Device): CommandSet {
  const wifi = device.wifi;
  if (!wifi) throw new Error(`profile ${device.profile.id}: the "${ESP_AT_SET_ID}" set needs settings.wifi (the Wi-Fi station)`);
  const data: EspAtProfileData = { ...DEFAULTS, ...(device.profile.settings[ESP_AT_SET_ID] as Partial<EspAtProfileData> | undefined) };
  const powerOn = (): EspAtState => ({
    mode: 1,
    cipmode: 0,
    sleep: 2,
    sysstore: 1,
    uartCur: [...(state?.uartDef ?? data.uart)],
    uartDef: state?.uartDef ?? [...data.uart],
    joining: false,
  });
  let state: EspAtState | undefined;
  state = powerOn();
  const q: EspAtContext = {
    device,
    wifi,
    data,
    get state() {
      return state!;
    },
    restart: () => device.reboot?.(),
  };

  // ESP-AT's Wi-Fi messages, unless AT+CWJAP is printing them in its own response.
  const message = (text: string) => () => {
    if (!q.state.joining) device.urc(text);
  };
  wifi.on('connected', message('WIFI CONNECTED'));
  wifi.on('got-ip', message('WIFI GOT IP'));
  wifi.on('disconnected', message('WIFI DISCONNECT'));

  return {
    commands: [
      rstCommand(q),
      restoreCommand(q),
      gmrCommand(q),
      sysramCommand(q),
      sysstoreCommand(q),
      sleepCommand(q),
      uartCurCommand(q),
      uartDefCommand(q),
      cwmodeCommand(q),
      cwjapCommand(q),
      cwqapCommand(q),
      cwstateCommand(q),
      cwautoconnCommand(q),
      cipstaCommand(q),
      cipstamacCommand(q),
      cifsrCommand(q),
      cipmodeCommand(q),
    ],
    // A restart: RAM settings back to power-on values (AT+UART_DEF and the station's saved AP stay).
    dispose: () => {
      state = powerOn();
    },
    inspect: () => ({ mode: q.state.mode, cipmode: q.state.cipmode, wifi: wifi.inspect() }),
  };
}
