/**
 * Certificate checks of AT+TCCERTCHECK (§2.4) and AT+TCDEVINFOSET tlsmode 2 (§2.2): the stored
 * file really is a PEM certificate (`.crt`) or private key (`.key`), parsed with node:crypto.
 * §2.3: "公私钥对写入的时候文件名需一致, 后缀名区分 (公钥.crt 私钥.key)" — yet §7.2 stores
 * `general_cdev1_cert.crt` with `general_cdev1_private.key`; so a certificate's key is found by
 * what it is (the key whose public half is the certificate's), not by its name.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

export type CertKind = 'cert' | 'key';

export type CertCheck = { ok: true; kind: CertKind } | { ok: false; problem: string };

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;
const PEM_KEY = /-----BEGIN ((RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+-----END \1-----/;

/** What the name says the file is: `.key` a private key, anything else a certificate. */
export function kindOf(name: string): CertKind {
  return name.toLowerCase().endsWith('.key') ? 'key' : 'cert';
}

function parseCert(data: Buffer): X509Certificate | string {
  const text = data.toString('latin1');
  if (!PEM_CERT.test(text)) return 'not a PEM certificate';
  try {
    return new X509Certificate(data);
  } catch (err) {
    return `certificate does not parse: ${(err as Error).message}`;
  }
}

function parseKey(data: Buffer): KeyObject | string {
  const text = data.toString('latin1');
  if (!PEM_KEY.test(text)) return 'not a PEM private key';
  try {
    return createPrivateKey({ key: data, format: 'pem' });
  } catch (err) {
    return `private key does not parse: ${(err as Error).message}`;
  }
}

/** Parse the file as what its name says it is. */
export function checkCertFile(name: string, data: Buffer): CertCheck {
  const kind = kindOf(name);
  const parsed = kind === 'key' ? parseKey(data) : parseCert(data);
  return typeof parsed === 'string' ? { ok: false, problem: parsed } : { ok: true, kind };
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** Among `keys`, the name of the private key that belongs to the certificate `cert`. */
export function findKeyFor(cert: Buffer, keys: { name: string; data: Buffer }[]): string | undefined {
  const c = parseCert(cert);
  if (typeof c === 'string') return undefined;
  const want = spki(c.publicKey);
  for (const k of keys) {
    const key = parseKey(k.data);
    if (typeof key === 'string') continue;
    try {
      if (spki(createPublicKey(key)).equals(want)) return k.name;
    } catch {
      // Not a key with a public half (cannot happen for PEM private keys); try the next.
    }
  }
  return undefined;
}
