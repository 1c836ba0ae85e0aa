import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateValidity,
  checkCertificateValidity,
  checkIssuedByCa,
  checkKeyMatchesCertificate,
  parseCertificate,
} from '../../../electron/backend/pki/check-certificate';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import { issueServerCertificate, type IssuedCertificate } from '../../../electron/backend/pki/issue-certificate';

const ISSUED = new Date('2026-05-03T12:00:00Z');
const DAY_MS = 24 * 3600_000;
const at = (days: number): Date => new Date(ISSUED.getTime() + days * DAY_MS);
let ca: InstallCa;
let sameNameCa: InstallCa;
let server: IssuedCertificate;

beforeAll(async () => {
  [ca, sameNameCa] = await Promise.all([
    createInstallCa({ installName: 'plant-7', now: ISSUED }),
    createInstallCa({ installName: 'plant-7', now: ISSUED }),
  ]);
  server = await issueServerCertificate(ca, { hostName: 'db-1', validityDays: 90, now: ISSUED });
});

describe('key and certificate', () => {
  it('passes the key made with the certificate, and refuses any other', () => {
    expect(() => checkKeyMatchesCertificate(server.certPem, server.keyPem)).not.toThrow();
    expect(() => checkKeyMatchesCertificate(server.certPem, ca.keyPem, 'server certificate of db-1')).toThrow(
      expect.objectContaining({
        code: 'PKI_KEY_MISMATCH',
        message: 'The private key does not belong to the server certificate of db-1 (CN=db-1, O=SutazAI).',
      }),
    );
  });

  it('says so when the key or the certificate is not PEM at all', () => {
    expect(() => checkKeyMatchesCertificate(server.certPem, 'not a key')).toThrow(
      expect.objectContaining({ code: 'PKI_KEY_MISMATCH', message: expect.stringContaining('not an unencrypted PEM private key') }),
    );
    expect(() => parseCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'CA certificate')).toThrow(
      expect.objectContaining({ code: 'PKI_CERT_INVALID', message: 'The CA certificate is not a PEM X.509 certificate.' }),
    );
  });
});

describe('validity', () => {
  it('is valid, then due for renewal in its last 30 days, then expired', () => {
    expect(certificateValidity(server.certPem, { now: at(1) })).toMatchObject({ state: 'valid', daysLeft: 89 });
    expect(certificateValidity(server.certPem, { now: at(61) })).toMatchObject({ state: 'renew-soon', daysLeft: 29 });
    expect(certificateValidity(server.certPem, { now: at(61), renewWithinDays: 14 }).state).toBe('valid');
    expect(certificateValidity(server.certPem, { now: at(91) })).toMatchObject({ state: 'expired', daysLeft: -1 });
    expect(certificateValidity(server.certPem, { now: at(-1) }).state).toBe('not-yet-valid');
  });

  it('lets a certificate due for renewal through and stops an expired or future one, with a remedy', () => {
    expect(checkCertificateValidity(server.certPem, 'server certificate of db-1', { now: at(80) }).state).toBe('renew-soon');
    expect(() => checkCertificateValidity(server.certPem, 'server certificate of db-1', { now: at(91) })).toThrow(
      expect.objectContaining({
        code: 'PKI_CERT_EXPIRED',
        message: expect.stringMatching(/^The server certificate of db-1 \(CN=db-1, O=SutazAI\) expired on 2026-08-01T12:00:00\.000Z\.$/),
        remedy: expect.stringContaining('Renew'),
      }),
    );
    expect(() => checkCertificateValidity(server.certPem, 'server certificate of db-1', { now: at(-1) })).toThrow(
      expect.objectContaining({ code: 'PKI_CERT_NOT_YET_VALID', remedy: expect.stringContaining('clock') }),
    );
  });
});

describe('issuer', () => {
  it('passes a certificate signed by the CA', () => {
    expect(() => checkIssuedByCa(server.certPem, ca.certPem)).not.toThrow();
  });

  it('refuses one from another CA even when that CA has the same name', () => {
    expect(() => checkIssuedByCa(server.certPem, sameNameCa.certPem, 'server certificate of db-1')).toThrow(
      expect.objectContaining({
        code: 'PKI_CERT_INVALID',
        message: expect.stringContaining("was not issued by this install's CA (CN=SutazAI CA plant-7, O=SutazAI)"),
      }),
    );
  });
});
