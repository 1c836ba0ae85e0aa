import type Database from 'better-sqlite3';
import { certificateValidity } from '../../pki/check-certificate';
import { DEFAULT_LEAF_VALIDITY_DAYS } from '../../pki/issue-certificate';
import type { CertificateExpiries, CertificateExpiry } from './alert-inputs';

const DAY_MS = 86_400_000;

/**
 * The certificates a recorded install depends on, with when each expires: the install's CA
 * (its certificate is stored) and each host's runtime certificate. The runtime's is not
 * kept here (its key never leaves the host): a new one is issued, valid for
 * DEFAULT_LEAF_VALIDITY_DAYS and never past the CA, each time the host's configure step
 * runs, so it expires that long after the host's last successful configure.
 */
export function recordedCertificates(db: Database.Database): CertificateExpiries {
  const installs = db.prepare<[], { id: number; name: string; caCert: string }>(
    'SELECT id, name, ca_cert AS caCert FROM installs ORDER BY name',
  );
  const configured = db.prepare<[number], { hostId: number; at: number }>(
    `SELECT s.host_id AS hostId, MAX(s.finished_at) AS at FROM install_steps s
     JOIN install_hosts h ON h.install_id = s.install_id AND h.host_id = s.host_id
     WHERE s.install_id = ? AND s.step = 'configure' AND s.status = 'done' AND s.finished_at IS NOT NULL
     GROUP BY s.host_id ORDER BY s.host_id`,
  );
  return {
    list() {
      const out: CertificateExpiry[] = [];
      for (const install of installs.all()) {
        let caNotAfterMs: number;
        try {
          caNotAfterMs = certificateValidity(install.caCert).notAfter.getTime();
        } catch {
          continue; // An unreadable CA fails every connection with its own explained error; it has no date to alert on.
        }
        out.push({ installName: install.name, hostId: null, what: 'install CA', notAfterMs: caNotAfterMs });
        for (const host of configured.all(install.id))
          out.push({
            installName: install.name,
            hostId: host.hostId,
            what: 'runtime certificate',
            notAfterMs: Math.min(host.at + DEFAULT_LEAF_VALIDITY_DAYS * DAY_MS, caNotAfterMs),
          });
      }
      return out;
    },
  };
}
