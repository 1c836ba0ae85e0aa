import type Database from 'better-sqlite3';

/**
 * Which runtime a remembered head belongs to: the install it was installed by, and where its log
 * is. The install's id alone would not do: SQLite gives a removed install's id to the next one.
 */
export interface RuntimeIdentity {
  installId: number;
  installName: string;
  /** The serial of the install's CA certificate (random, new with each install): which install, beyond its reused id. */
  installCaSerial: string;
  stateDir: string;
}

/** The newest entry of a host's runtime audit log last found intact (migration 030). */
export interface HostAuditHead extends RuntimeIdentity {
  hostId: number;
  seq: number;
  hash: string;
  verifiedAt: number;
  verifiedBy: string;
  acceptedAt: number | null;
  acceptedBy: string | null;
}

export interface HostAuditHeadsRepo {
  get(hostId: number): HostAuditHead | null;
  /**
   * Remembers `head` after a verify found the log intact and holding the head remembered before.
   * Never moves back: a verify that read the log before another one advanced it leaves the newer
   * head (two windows verifying at once). Answers whether the row was written.
   */
  advance(hostId: number, identity: RuntimeIdentity, head: { seq: number; hash: string }, by: string, now: number): boolean;
  /** An admin's accepted reset: the head as given, whatever was remembered (older or newer, another runtime). */
  accept(hostId: number, identity: RuntimeIdentity, head: { seq: number; hash: string }, by: string, now: number): void;
}

const COLUMNS =
  'host_id AS hostId, install_id AS installId, install_name AS installName, install_ca_serial AS installCaSerial, state_dir AS stateDir, seq, hash, verified_at AS verifiedAt, verified_by AS verifiedBy, accepted_at AS acceptedAt, accepted_by AS acceptedBy';

export function createHostAuditHeadsRepo(db: Database.Database): HostAuditHeadsRepo {
  const select = db.prepare<[number], HostAuditHead>(`SELECT ${COLUMNS} FROM host_audit_heads WHERE host_id = ?`);
  const advance = db.prepare(
    `INSERT INTO host_audit_heads (host_id, install_id, install_name, install_ca_serial, state_dir, seq, hash, verified_at, verified_by)
     VALUES (@hostId, @installId, @installName, @installCaSerial, @stateDir, @seq, @hash, @now, @by)
     ON CONFLICT (host_id) DO UPDATE SET install_id = excluded.install_id, install_name = excluded.install_name,
       install_ca_serial = excluded.install_ca_serial, state_dir = excluded.state_dir, seq = excluded.seq, hash = excluded.hash, verified_at = excluded.verified_at,
       verified_by = excluded.verified_by
     WHERE excluded.seq >= host_audit_heads.seq`,
  );
  const accept = db.prepare(
    `INSERT INTO host_audit_heads (host_id, install_id, install_name, install_ca_serial, state_dir, seq, hash, verified_at, verified_by, accepted_at, accepted_by)
     VALUES (@hostId, @installId, @installName, @installCaSerial, @stateDir, @seq, @hash, @now, @by, @now, @by)
     ON CONFLICT (host_id) DO UPDATE SET install_id = excluded.install_id, install_name = excluded.install_name,
       install_ca_serial = excluded.install_ca_serial, state_dir = excluded.state_dir, seq = excluded.seq, hash = excluded.hash, verified_at = excluded.verified_at,
       verified_by = excluded.verified_by, accepted_at = excluded.accepted_at, accepted_by = excluded.accepted_by`,
  );
  return {
    get: (hostId) => select.get(hostId) ?? null,
    advance: (hostId, identity, head, by, now) => advance.run({ hostId, ...identity, ...head, by, now }).changes > 0,
    accept: (hostId, identity, head, by, now) => {
      accept.run({ hostId, ...identity, ...head, by, now });
    },
  };
}
