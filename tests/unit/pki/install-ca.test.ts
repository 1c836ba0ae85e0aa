import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BACKDATE_MS, createInstallCa } from '../../../electron/backend/pki/install-ca';
import { randomSerialNumber } from '../../../electron/backend/pki/serial-number';
import { opensslText, opensslVerify } from '../../support/openssl-cli';

const NOW = new Date('2026-05-03T12:00:00Z');
const DAY_MS = 24 * 3600_000;

describe('the install CA', () => {
  it('is a self-signed P-256 CA that signs end-entity certificates only', async () => {
    const ca = await createInstallCa({ installName: 'plant-7', validityDays: 3650, now: NOW });
    const cert = new X509Certificate(ca.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=SutazAI CA plant-7\nO=SutazAI');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const parsed = new x509.X509Certificate(ca.certPem);
    const constraints = parsed.getExtension(x509.BasicConstraintsExtension);
    expect(constraints).toMatchObject({ ca: true, pathLength: 0, critical: true });
    const usage = parsed.getExtension(x509.KeyUsagesExtension);
    expect(usage?.critical).toBe(true);
    expect(usage?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(parsed.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it('is valid from a few minutes before now for the days asked', async () => {
    const ca = await createInstallCa({ installName: 'plant-7', validityDays: 30, now: NOW });
    const cert = new X509Certificate(ca.certPem);
    expect(Date.parse(cert.validFrom)).toBe(NOW.getTime() - BACKDATE_MS);
    expect(Date.parse(cert.validTo)).toBe(NOW.getTime() + 30 * DAY_MS);
  });

  it('is accepted by openssl, which shows CA:TRUE with pathlen 0', async () => {
    const ca = await createInstallCa({ installName: 'plant-7' });
    expect(opensslVerify(ca.certPem, ca.certPem)).toMatchObject({ ok: true });
    const text = opensslText(ca.certPem);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain('ASN1 OID: prime256v1');
  });

  it('gets a fresh key and a random 16-byte positive serial each time', async () => {
    const [a, b] = await Promise.all([createInstallCa({ installName: 'same' }), createInstallCa({ installName: 'same' })]);
    const [ca, cb] = [new X509Certificate(a.certPem), new X509Certificate(b.certPem)];
    expect(ca.serialNumber).not.toBe(cb.serialNumber);
    expect(ca.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(ca.verify(cb.publicKey)).toBe(false);
  });

  it('refuses an empty, over-long or multi-line install name', async () => {
    for (const installName of ['', '   ', 'x'.repeat(51), 'two\nlines']) {
      await expect(createInstallCa({ installName })).rejects.toMatchObject({ code: 'PKI_NAME_INVALID', remedy: expect.any(String) });
    }
  });
});

describe('serial numbers', () => {
  it('are 16 bytes with the top bit clear and a non-zero first byte', () => {
    for (let i = 0; i < 500; i++) {
      const serial = randomSerialNumber();
      expect(serial).toMatch(/^[0-9a-f]{32}$/);
      const first = parseInt(serial.slice(0, 2), 16);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(0x80);
    }
  });
});
