import type Database from 'better-sqlite3';

/** An install's token signing key as stored: the private part is a vault secret. */
export interface TokenKeyRow {
  id: number;
  installId: number;
  keyId: string;
  publicKeyPem: string;
  secretId: number;
  createdAt: number;
  retiredAt: number | null;
}

/**
 * Migration 023's tables: the installs' token keys, operators' client certificates (by
 * serial, for revocation) and the access state's version counter.
 */
export interface RuntimeCredentialsRepo {
  /** The key new tokens are signed with; null before the first. */
  currentKey(installId: number): TokenKeyRow | null;
  addKey(row: Omit<TokenKeyRow, 'id' | 'retiredAt'>): TokenKeyRow;
  /** Retires every key of the install that is not retired yet; returns their vault secret ids. */
  retireKeys(installId: number, now: number): number[];
  /** Serials (hex) of certificates revoked and not yet expired, of the install. */
  revokedSerials(installId: number, now: number): string[];
  recordCertificate(row: {
    installId: number;
    operatorName: string;
    serial: string;
    role: string;
    notAfter: number;
    issuedAt: number;
  }): void;
  /** Revokes every certificate of the operator (any install) not revoked yet; returns how many. */
  revokeCertificatesOf(operatorName: string, now: number): number;
  /** Operators' certificates, newest first: all, or one operator's. */
  certificates(operatorName?: string): OperatorCertificateRow[];
  /**
   * Revokes the certificate of that serial (lower-case hex): it as now, and whether this call
   * revoked it (false: it was revoked before, its time kept); null when there is none.
   */
  revokeSerial(serial: string, now: number): { certificate: OperatorCertificateRow; revokedNow: boolean } | null;
  /**
   * The version for a state whose content hashes to `hash`: the one held when the hash is
   * the same as last time, otherwise the next one, at least `now` (ms): a data directory
   * restored from an older backup still hands out versions above those its runtimes hold.
   * One immediate transaction, so two processes on the data directory never hand out one
   * number for two states.
   */
  versionFor(installId: number, hostId: number, hash: string, now: number): number;
}

/** An operator's client certificate as recorded (never its key): by serial, for listing and revocation. */
export interface OperatorCertificateRow {
  installId: number;
  operatorName: string;
  /** Lower-case hex, no leading zeros (the runtime's normalizeSerial). */
  serial: string;
  role: string;
  issuedAt: number;
  notAfter: number;
  revokedAt: number | null;
}

interface CertificateRow {
  install_id: number;
  operator_name: string;
  serial: string;
  role: string;
  issued_at: number;
  not_after: number;
  revoked_at: number | null;
}

const toCertificate = (row: CertificateRow): OperatorCertificateRow => ({
  installId: row.install_id,
  operatorName: row.operator_name,
  serial: row.serial,
  role: row.role,
  issuedAt: row.issued_at,
  notAfter: row.not_after,
  revokedAt: row.revoked_at,
});

interface KeyRow {
  id: number;
  install_id: number;
  key_id: string;
  public_key_pem: string;
  secret_id: number;
  created_at: number;
  retired_at: number | null;
}

const toKey = (row: KeyRow): TokenKeyRow => ({
  id: row.id,
  installId: row.install_id,
  keyId: row.key_id,
  publicKeyPem: row.public_key_pem,
  secretId: row.secret_id,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
});

export function createRuntimeCredentialsRepo(db: Database.Database): RuntimeCredentialsRepo {
  const current = db.prepare<[number], KeyRow>(
    'SELECT * FROM install_token_keys WHERE install_id = ? AND retired_at IS NULL ORDER BY id DESC LIMIT 1',
  );
  const insertKey = db.prepare(
    `INSERT INTO install_token_keys (install_id, key_id, public_key_pem, secret_id, created_at)
     VALUES (@installId, @keyId, @publicKeyPem, @secretId, @createdAt)`,
  );
  const live = db.prepare<[number], { id: number; secret_id: number }>(
    'SELECT id, secret_id FROM install_token_keys WHERE install_id = ? AND retired_at IS NULL',
  );
  const retire = db.prepare('UPDATE install_token_keys SET retired_at = ? WHERE id = ?');
  const revoked = db.prepare<[number, number], { serial: string }>(
    'SELECT serial FROM operator_certificates WHERE install_id = ? AND revoked_at IS NOT NULL AND not_after > ? ORDER BY id',
  );
  const insertCertificate = db.prepare(
    `INSERT INTO operator_certificates (install_id, operator_name, serial, role, not_after, issued_at)
     VALUES (@installId, @operatorName, @serial, @role, @notAfter, @issuedAt)`,
  );
  const revokeOf = db.prepare('UPDATE operator_certificates SET revoked_at = ? WHERE operator_name = ? AND revoked_at IS NULL');
  const allCertificates = db.prepare<[], CertificateRow>('SELECT * FROM operator_certificates ORDER BY id DESC');
  const certificatesOf = db.prepare<[string], CertificateRow>(
    'SELECT * FROM operator_certificates WHERE operator_name = ? ORDER BY id DESC',
  );
  const bySerial = db.prepare<[string], CertificateRow>('SELECT * FROM operator_certificates WHERE serial = ?');
  const revokeOne = db.prepare('UPDATE operator_certificates SET revoked_at = ? WHERE serial = ? AND revoked_at IS NULL');
  const version = db.prepare<[number, number], { version: number; content_hash: string }>(
    'SELECT version, content_hash FROM access_state_versions WHERE install_id = ? AND host_id = ?',
  );
  const bump = db.prepare(
    `INSERT INTO access_state_versions (install_id, host_id, version, content_hash) VALUES (@installId, @hostId, @version, @hash)
     ON CONFLICT (install_id, host_id) DO UPDATE SET version = excluded.version, content_hash = excluded.content_hash`,
  );

  const versionFor = db.transaction((installId: number, hostId: number, hash: string, now: number): number => {
    const held = version.get(installId, hostId);
    if (held?.content_hash === hash) return held.version;
    const next = Math.max((held?.version ?? 0) + 1, Math.trunc(now));
    bump.run({ installId, hostId, version: next, hash });
    return next;
  });
  const retireAll = db.transaction((installId: number, now: number): number[] => {
    const rows = live.all(installId);
    for (const row of rows) retire.run(now, row.id);
    return rows.map((row) => row.secret_id);
  });

  return {
    currentKey: (installId) => {
      const row = current.get(installId);
      return row === undefined ? null : toKey(row);
    },
    addKey: (row) => {
      const id = Number(insertKey.run(row).lastInsertRowid);
      return { ...row, id, retiredAt: null };
    },
    retireKeys: (installId, now) => retireAll.immediate(installId, now),
    revokedSerials: (installId, now) => revoked.all(installId, now).map((row) => row.serial),
    recordCertificate: (row) => void insertCertificate.run(row),
    revokeCertificatesOf: (operatorName, now) => revokeOf.run(now, operatorName).changes,
    certificates: (operatorName) =>
      (operatorName === undefined ? allCertificates.all() : certificatesOf.all(operatorName)).map(toCertificate),
    revokeSerial: (serial, now) => {
      const revokedNow = revokeOne.run(now, serial).changes > 0;
      const row = bySerial.get(serial);
      return row === undefined ? null : { certificate: toCertificate(row), revokedNow };
    },
    versionFor: (installId, hostId, hash, now) => {
      // Unchanged (every recheck but the rare one after a change): a read, no write lock.
      const held = version.get(installId, hostId);
      return held?.content_hash === hash ? held.version : versionFor.immediate(installId, hostId, hash, now);
    },
  };
}
