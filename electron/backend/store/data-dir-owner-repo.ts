import type Database from 'better-sqlite3';
import { ApiError } from '../../contract';
import { claimLive, describeHolder, newClaim, type ClaimRow } from './process-claims';

/**
 * One serving backend (web mode, the desktop app) per data directory: two would both
 * sample, probe and log into the same files, and an operator expects the second start
 * to say where the first one is. The claim is released when the backend stops and taken
 * over when its process died. Returns the release.
 */
export function claimDataDir(
  db: Database.Database,
  options: { holder: string; dataDir: string; now: () => number; logger?: { warn(o: object, m: string): void } },
): () => void {
  const select = db.prepare<[], ClaimRow>('SELECT holder, owner_pid, owner_started, token, acquired_at FROM data_dir_owner WHERE id = 1');
  const upsert = db.prepare(
    `INSERT INTO data_dir_owner (id, holder, owner_pid, owner_started, token, acquired_at) VALUES (1, @holder, @owner_pid, @owner_started, @token, @acquired_at)
     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, owner_pid = excluded.owner_pid, owner_started = excluded.owner_started, token = excluded.token, acquired_at = excluded.acquired_at`,
  );
  const remove = db.prepare('DELETE FROM data_dir_owner WHERE id = 1 AND token = ?');
  const claim = newClaim(options.holder, options.now());
  const stale = db
    .transaction(() => {
      const current = select.get();
      if (current && claimLive(current)) {
        throw new ApiError(
          'DATA_DIR_IN_USE',
          `The data directory ${options.dataDir} is in use by another control center: ${describeHolder(current)}.`,
          `Use that one, or stop it first (Ctrl+C where it runs, or kill ${current.owner_pid}); to run two at once, give each its own --data-dir (or SUTAZAI_DATA_DIR).`,
        );
      }
      const { holder, owner_pid, owner_started, token, acquired_at } = claim;
      upsert.run({ holder, owner_pid, owner_started, token, acquired_at });
      return current;
    })
    .immediate();
  claim.held();
  if (stale)
    options.logger?.warn({ staleHolder: describeHolder(stale) }, 'took over the data directory from a backend whose process is gone');
  let released = false;
  return () => {
    if (released) return;
    released = true;
    claim.dropped();
    if (db.open) remove.run(claim.token);
  };
}
