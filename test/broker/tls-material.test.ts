/**
 * The virtual cloud's certificates, made in process with @peculiar/x509: a CA, a server
 * certificate for localhost/127.0.0.1/::1 and client certificates, all chaining to the CA as
 * node:crypto sees them; a CA key in the older SEC1 form (openssl-made state dirs) still signs.
 */
import 'reflect-metadata';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureTlsMaterial, issueDeviceCertificate } from '../../src/broker/tls-material.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vmodem-tls-'));
  dirs.push(d);
  return d;
}

describe('TLS material', () => {
  it('makes a CA, a server certificate (SAN localhost, 127.0.0.1, ::1; serverAuth) and client certificates (clientAuth) that chain to it', async () => {
    const dir = tmp();
    const m = await ensureTlsMaterial(dir);
    const ca = new X509Certificate(m.ca);
    const server = new X509Certificate(m.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=vmodem virtual cloud CA');
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(new x509.X509Certificate(m.cert).getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect(fs.statSync(m.keyPath).mode & 0o777).toBe(0o600);
    expect(fs.statSync(m.caKeyPath).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(m.dir).sort()).toEqual(['ca-key.pem', 'ca.pem', 'server-key.pem', 'server.pem']);

    const dev = await issueDeviceCertificate(dir, 'dev_1');
    const client = new X509Certificate(dev.cert);
    expect(client.subject).toBe('CN=dev_1');
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(client.fingerprint256).toBe(dev.fingerprint256);
    expect(new x509.X509Certificate(dev.cert).getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(fs.statSync(dev.keyPath).mode & 0o777).toBe(0o600);
  });

  it('issues from a CA whose key is in the SEC1 form older openssl-made state dirs have', async () => {
    const dir = tmp();
    const first = await ensureTlsMaterial(dir);
    // Re-write the CA key as "BEGIN EC PRIVATE KEY" and check it still signs new certificates.
    const ca = new X509Certificate(first.ca);
    const sec1 = createPrivateKey(fs.readFileSync(first.caKeyPath)).export({ type: 'sec1', format: 'pem' }).toString();
    expect(sec1).toContain('BEGIN EC PRIVATE KEY');
    fs.writeFileSync(first.caKeyPath, sec1);
    const dev = await issueDeviceCertificate(dir, 'dev2');
    expect(new X509Certificate(dev.cert).verify(ca.publicKey)).toBe(true);
  });
});
