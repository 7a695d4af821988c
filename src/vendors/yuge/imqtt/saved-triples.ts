/**
 * The triples AT+IMQTTDYNREG=1,… saves in the module's flash and AT+IMQTTDYNREG=2 lists (manual
 * §2.16: "1: 保存动态注册获取的三元组", "2: 查询否是有保存的已动态获取的三元组"). One record per
 * registration mode; a new registration of the same mode replaces it. They survive a restart
 * when the modem's flash lives under the state directory (src/modem/module-flash.ts).
 */
import type { FlashStore } from '../../../modem/module-flash.js';

/** mode 1 (预注册): ProductKey, DeviceName, DeviceSecret. mode 2 (免注册): ClientID, UserName, PassWord. */
export type Triple = [string, string, string];

export interface SavedTriples {
  1?: Triple;
  2?: Triple;
}

export const DYNREG_KEY = 'yuge-imqtt/dynreg.json';

function isTriple(v: unknown): v is Triple {
  return Array.isArray(v) && v.length === 3 && v.every((s) => typeof s === 'string');
}

/** What is saved; a damaged record reads as none, as a module's checksum would have it. */
export function loadSavedTriples(flash: FlashStore): SavedTriples {
  const raw = flash.read(DYNREG_KEY);
  if (!raw) return {};
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
  const out: SavedTriples = {};
  if (isTriple(data['1'])) out[1] = data['1'];
  if (isTriple(data['2'])) out[2] = data['2'];
  return out;
}

export function saveTriple(flash: FlashStore, mode: 1 | 2, triple: Triple): void {
  flash.write(DYNREG_KEY, `${JSON.stringify({ ...loadSavedTriples(flash), [mode]: triple })}\n`);
}
