/**
 * AT+IMQTTUSER — 设置 MQTT 用户名密码 (manual §2.3 "AT+IMQTTUSER 设置 MQTT 用户名密码").
 *   AT+IMQTTUSER=<userName>,<password>  → OK
 *   AT+IMQTTUSER?                        → +IMQTTUSER:<userName>,*****  OK
 *   AT+IMQTTUSER=?                       → OK
 * The read form masks the password: §2.3 sets `pwd001` and reads back `+IMQTTUSER:name001,*****`
 * — five asterisks whatever its length. Where the manual is silent: with no password set the
 * mask is left out (`+IMQTTUSER:name001,`); an empty <userName> or <password> (§3:
 * `AT+IMQTTUSER="", ""`) sends none in CONNECT, and a password goes only with a user name
 * [MQTT-3.1.2-22]. Used by standard MQTT (mode 2) and by Aliyun mode
 * without an AT+IMQTTAUTH triple (§2.16's registration-free sign-in).
 */
import { ok, type CommandDef } from '../../../at/types.js';
import { imqttArgs, str, textFromAt, textToAt } from './args.js';
import type { YugeContext } from './context.js';
import { line } from './format.js';

export const PASSWORD_MASK = '*****';

export function imqttuserCommand(q: YugeContext): CommandDef {
  const d = q.data;
  return {
    name: '+IMQTTUSER',
    sensitive: true,
    test: () => ok(),
    read: () => {
      const c = q.client.config;
      return ok(line('+IMQTTUSER', `${textToAt(c.username)},${c.password !== '' ? PASSWORD_MASK : ''}`));
    },
    set: (ctx) =>
      imqttArgs(ctx, [str('userName', d.maxUserLength), str('password', d.maxPasswordLength)], ([user, password]) => {
        const c = q.client.config;
        c.username = textFromAt(user);
        // Passwords are bytes (MQTT 3.1.1 §3.1.3.5): kept as typed.
        c.password = password;
        return ok();
      }),
  };
}
