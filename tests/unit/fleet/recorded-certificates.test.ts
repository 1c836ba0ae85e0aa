// The certificate-expiry rule's input (fleet/alerts/recorded-certificates.ts) over a real
// SQLite store and real install CAs: each install's CA with its own expiry, read again when
// an install's CA is replaced (the expiry is kept by the certificate's text between the
// evaluations that read it every 10 s, never by the install), and an unreadable CA left out.
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { recordedCertificates } from '../../../electron/backend/fleet/alerts/recorded-certificates';
import { createInstallCa } from '../../../electron/backend/pki/install-ca';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { seedRecordedInstalls } from '../../support/recorded-installs';
import { makeTempDir } from '../../support/temp-dir';

const NOW = new Date('2026-05-03T12:00:00Z');
const dir = makeTempDir('sutazai-recorded-certificates-');
let store: Store | null = null;

afterEach(() => {
  store?.close();
  store = null;
});
afterAll(() => dir.remove());

const caOf = async (installName: string, validityDays: number): Promise<{ pem: string; notAfterMs: number }> => {
  const { certPem } = await createInstallCa({ installName, validityDays, now: NOW });
  return { pem: certPem, notAfterMs: Date.parse(new X509Certificate(certPem).validTo) };
};

describe('recorded certificates', () => {
  it("lists each install's CA with its own expiry, the new one once a CA is replaced, and none for an unreadable CA", async () => {
    store = openStore({ dataDir: dir.path });
    const db = store.db;
    seedRecordedInstalls(db, [
      { name: 'alpha', hosts: [] },
      { name: 'beta', hosts: [] },
    ]);
    const [alpha, beta, alphaAgain] = await Promise.all([caOf('alpha', 30), caOf('beta', 400), caOf('alpha', 90)]);
    const setCa = db.prepare('UPDATE installs SET ca_cert = ? WHERE name = ?');
    setCa.run(alpha.pem, 'alpha');
    setCa.run(beta.pem, 'beta');
    const certificates = recordedCertificates(db);
    const cas = () => certificates.list().filter((c) => c.what === 'install CA');

    expect(cas()).toEqual([
      { installName: 'alpha', hostId: null, what: 'install CA', notAfterMs: alpha.notAfterMs },
      { installName: 'beta', hostId: null, what: 'install CA', notAfterMs: beta.notAfterMs },
    ]);
    // Read again, unchanged: the same answer.
    expect(cas()).toEqual([
      { installName: 'alpha', hostId: null, what: 'install CA', notAfterMs: alpha.notAfterMs },
      { installName: 'beta', hostId: null, what: 'install CA', notAfterMs: beta.notAfterMs },
    ]);

    // alpha reinstalled with a new CA; beta's CA made unreadable.
    setCa.run(alphaAgain.pem, 'alpha');
    setCa.run('not a certificate', 'beta');
    expect(alphaAgain.notAfterMs).not.toBe(alpha.notAfterMs);
    expect(cas()).toEqual([{ installName: 'alpha', hostId: null, what: 'install CA', notAfterMs: alphaAgain.notAfterMs }]);
  });
});
