/**
 * Issuing the virtual cloud's certificates (tls-material.ts): a CA, and leaf certificates it
 * signs. node:crypto can verify X.509 certificates but cannot create them; @peculiar/x509 (on
 * Node's WebCrypto) builds and signs them in process — no `openssl` command needed, ~50 ms for
 * all three. Kept apart from tls-material.ts, which loads it only when something must be issued:
 * the library and its ASN.1 stack take longer to load than a reused CA takes to check.
 */
import 'reflect-metadata';
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const CA_DAYS = 3650;
const LEAF_DAYS = 825;
const DAY_MS = 86_400_000;
/** Certificates start an hour back, so a peer whose clock runs a little behind accepts them. */
const BACKDATE_MS = 3_600_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

// The library's default provider is the global `crypto`, which Node 20 only exposes behind a
// flag in some setups: hand it Node's WebCrypto explicitly.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const subtle = webcrypto.subtle;
/** The library's CryptoKey (the DOM type; the project compiles without the DOM library). */
type LibKey = x509.X509CertificateCreateWithKeyParams['signingKey'];
type LibKeyPair = x509.X509CertificateCreateSelfSignedParams['keys'];

interface KeyPair {
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
}

function newKeyPair(): Promise<KeyPair> {
  return subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<KeyPair>;
}

function keyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The CA's signing key from its PEM file (PKCS#8 or the SEC1 form older openssl-made CAs have). */
function importSigningKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

function serialNumber(): string {
  // Positive 64-bit serial, unique per certificate.
  const bytes = randomBytes(8);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** A distinguished name with one CN; characters that would need escaping become "_". */
function cn(commonName: string): string {
  return `CN=${commonName.replace(/[/\\=+,;"<>#]/g, '_')}`;
}

export async function createCa(): Promise<{ cert: string; key: string }> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: cn('vmodem virtual cloud CA'),
    ...validity(CA_DAYS),
    keys: keys as unknown as LibKeyPair,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibKey),
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey as unknown as LibKey),
    ],
  });
  return { cert: cert.toString('pem'), key: keyPem(keys.privateKey) };
}

/** Issue a leaf certificate (server: SAN localhost/127.0.0.1/::1; client: clientAuth) signed by the CA. */
export async function issueLeaf(caCertPem: string, caKeyPem: string, commonName: string, kind: 'server' | 'client'): Promise<{ cert: string; key: string }> {
  const ca = new x509.X509Certificate(caCertPem);
  const caKey = await importSigningKey(caKeyPem);
  const keys = await newKeyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([kind === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as LibKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
  ];
  if (kind === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: cn(commonName),
    issuer: ca.subject,
    ...validity(LEAF_DAYS),
    publicKey: keys.publicKey as unknown as LibKey,
    signingKey: caKey as unknown as LibKey,
    signingAlgorithm: SIGNING,
    extensions,
  });
  return { cert: cert.toString('pem'), key: keyPem(keys.privateKey) };
}
