import type Database from 'better-sqlite3';
import type { PinnedKey } from '../../contract';

export interface PinnedHostKey extends PinnedKey {
  publicKey: Buffer;
  trustSource: string;
}

export interface HostKeyEvent {
  at: number;
  event: 'trusted' | 'retrusted' | 'refused';
  keyType: string;
  fingerprint: string;
  previousFingerprint: string | null;
  source: string;
}

export interface HostKeysRepo {
  get(hostId: number): PinnedHostKey | null;
  pin(hostId: number, key: { keyType: string; fingerprint: string; publicKey: Buffer }, now: number, source: string): void;
  unpin(hostId: number): void;
  recordRefusal(
    hostId: number,
    key: { keyType: string; fingerprint: string },
    previousFingerprint: string | null,
    now: number,
    source: string,
  ): void;
  events(hostId: number, limit?: number): HostKeyEvent[];
}

/** Pinned SSH host keys, and the record of every trust decision and refusal. */
export function createHostKeysRepo(db: Database.Database): HostKeysRepo {
  const selectPin = db.prepare<[number], PinnedHostKey>(
    'SELECT key_type AS keyType, fingerprint, trusted_at AS trustedAt, public_key AS publicKey, trust_source AS trustSource FROM host_keys WHERE host_id = ?',
  );
  const upsertPin =
    db.prepare(`INSERT INTO host_keys (host_id, key_type, fingerprint, public_key, trusted_at, trust_source) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (host_id) DO UPDATE SET key_type = excluded.key_type, fingerprint = excluded.fingerprint,
    public_key = excluded.public_key, trusted_at = excluded.trusted_at, trust_source = excluded.trust_source`);
  const deletePin = db.prepare('DELETE FROM host_keys WHERE host_id = ?');
  const insertEvent = db.prepare(
    'INSERT INTO host_key_events (host_id, at, event, key_type, fingerprint, previous_fingerprint, source) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const selectEvents = db.prepare<[number, number], HostKeyEvent>(
    'SELECT at, event, key_type AS keyType, fingerprint, previous_fingerprint AS previousFingerprint, source FROM host_key_events WHERE host_id = ? ORDER BY at DESC, id DESC LIMIT ?',
  );

  const pin = db.transaction(
    (hostId: number, key: { keyType: string; fingerprint: string; publicKey: Buffer }, now: number, source: string) => {
      const previous = selectPin.get(hostId);
      upsertPin.run(hostId, key.keyType, key.fingerprint, key.publicKey, now, source);
      insertEvent.run(hostId, now, previous ? 'retrusted' : 'trusted', key.keyType, key.fingerprint, previous?.fingerprint ?? null, source);
    },
  );

  return {
    get: (hostId: number): PinnedHostKey | null => selectPin.get(hostId) ?? null,
    pin,
    unpin: (hostId: number) => void deletePin.run(hostId),
    recordRefusal(
      hostId: number,
      key: { keyType: string; fingerprint: string },
      previousFingerprint: string | null,
      now: number,
      source: string,
    ) {
      insertEvent.run(hostId, now, 'refused', key.keyType, key.fingerprint, previousFingerprint, source);
    },
    events: (hostId: number, limit = 50): HostKeyEvent[] => selectEvents.all(hostId, limit),
  };
}
