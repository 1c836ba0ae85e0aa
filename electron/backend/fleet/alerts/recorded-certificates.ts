import type Database from 'better-sqlite3';
import { certificateValidity } from '../../pki/check-certificate';
import type { PresentedCertificate } from '../read-server-certificate';
import type { CertificateExpiries, CertificateExpiry } from './alert-inputs';

/** The certificates a recorded install depends on, with when each expires; and where a runtime's is recorded as seen. */
export interface RecordedCertificates extends CertificateExpiries {
  /**
   * The server certificate a host's runtime presented over TLS: its link records it each time it
   * comes up, and an apply once the runtime passed its health gate (install/engine/record-served-certificate.ts).
   */
  recordPresented(hostId: number, certificate: PresentedCertificate, seenAtMs: number): void;
}

/** CAs whose expiry is kept: installs come and go, and a CA is replaced by a reinstall. */
const MAX_KEPT_CA_EXPIRIES = 256;

/**
 * The install's CA (its certificate is stored with the install) and each installed host's
 * runtime certificate as its runtime last presented it over TLS. The runtime's own is read,
 * not estimated: its key never leaves the host, a reconfigure issues a new one, and only the
 * handshake says which one the runtime serves (a change of the manifest alone writes a new
 * one that the running runtime serves only from its next start). It is read by the apply that
 * started the runtime and again each time the host's link comes up, so a host whose link never
 * came up has one too; a host installed before applies recorded it has none until either reads it.
 */
export function recordedCertificates(db: Database.Database): RecordedCertificates {
  const installs = db.prepare<[], { id: number; name: string; caCert: string }>(
    'SELECT id, name, ca_cert AS caCert FROM installs ORDER BY name',
  );
  const presented = db.prepare<[number], { hostId: number; notAfterMs: number }>(
    `SELECT c.host_id AS hostId, c.not_after AS notAfterMs FROM runtime_certificates c
     JOIN install_hosts h ON h.host_id = c.host_id
     WHERE h.install_id = ? ORDER BY c.host_id`,
  );
  const record = db.prepare<[number, number, string, number]>(
    `INSERT INTO runtime_certificates (host_id, not_after, fingerprint, seen_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (host_id) DO UPDATE SET not_after = excluded.not_after, fingerprint = excluded.fingerprint, seen_at = excluded.seen_at`,
  );
  // Each CA's expiry by its PEM text, so the rules' evaluation (every 10 s) does not parse the same certificate every time.
  const caExpiries = new Map<string, number | null>();
  const caNotAfterMs = (pem: string): number | null => {
    let notAfterMs = caExpiries.get(pem);
    if (notAfterMs === undefined) {
      try {
        notAfterMs = certificateValidity(pem).notAfter.getTime();
      } catch {
        // An unreadable CA fails every connection with its own explained error; it has no date to alert on.
        notAfterMs = null;
      }
      if (caExpiries.size >= MAX_KEPT_CA_EXPIRIES) caExpiries.clear();
      caExpiries.set(pem, notAfterMs);
    }
    return notAfterMs;
  };
  return {
    list() {
      const out: CertificateExpiry[] = [];
      for (const install of installs.all()) {
        const notAfterMs = caNotAfterMs(install.caCert);
        if (notAfterMs !== null) out.push({ installName: install.name, hostId: null, what: 'install CA', notAfterMs });
        for (const host of presented.all(install.id))
          out.push({ installName: install.name, hostId: host.hostId, what: 'runtime certificate', notAfterMs: host.notAfterMs });
      }
      return out;
    },
    recordPresented(hostId, certificate, seenAtMs) {
      record.run(hostId, certificate.notAfterMs, certificate.fingerprint256, seenAtMs);
    },
  };
}
