import type Database from 'better-sqlite3';
import { ApiError } from '../../contract';
import { claimLive, describeHolder, newClaim, type ClaimRow } from './process-claims';

export interface InstallLockRequest {
  operation: string;
  /** The API job it runs as, named to whoever is refused. */
  jobId: string | null;
}

interface LockRow extends ClaimRow {
  operation: string;
  job_id: string | null;
}

export interface InstallLocks {
  /** Claims the install for one operation and returns its release; INSTALL_CONFLICT, naming the holder, while another runs. */
  claim(install: string, request: InstallLockRequest): () => void;
  /** Releases every claim this backend holds (it is stopping). */
  releaseAll(): void;
}

/**
 * One writer per install, across every process on this data directory (web mode, the
 * desktop app, `sutazai apply` in any terminal): the claim is a row written in an
 * IMMEDIATE transaction, so two claims cannot both see the install free. A claim left
 * by a process that died (kill -9, a crash) is taken over, with a log line.
 */
export function createInstallLocks(
  db: Database.Database,
  options: { holder: string; now: () => number; logger?: { warn(o: object, m: string): void } },
): InstallLocks {
  const select = db.prepare<[string], LockRow>(
    'SELECT operation, job_id, holder, owner_pid, owner_started, token, acquired_at FROM install_locks WHERE install_name = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO install_locks (install_name, operation, job_id, holder, owner_pid, owner_started, token, acquired_at)
     VALUES (@install, @operation, @jobId, @holder, @owner_pid, @owner_started, @token, @acquired_at)
     ON CONFLICT (install_name) DO UPDATE SET operation = excluded.operation, job_id = excluded.job_id, holder = excluded.holder,
       owner_pid = excluded.owner_pid, owner_started = excluded.owner_started, token = excluded.token, acquired_at = excluded.acquired_at`,
  );
  const remove = db.prepare('DELETE FROM install_locks WHERE install_name = ? AND token = ?');
  const held = new Map<string, () => void>();

  const claimTx = db.transaction((install: string, request: InstallLockRequest, claim: ClaimRow): LockRow | undefined => {
    const current = select.get(install);
    if (current && claimLive(current)) throw conflictError(install, current);
    const { holder, owner_pid, owner_started, token, acquired_at } = claim;
    upsert.run({ install, operation: request.operation, jobId: request.jobId, holder, owner_pid, owner_started, token, acquired_at });
    return current;
  });

  return {
    claim(install, request) {
      const claim = newClaim(options.holder, options.now());
      const stale = claimTx.immediate(install, request, claim);
      claim.held();
      if (stale)
        options.logger?.warn(
          { install, staleHolder: describeHolder(stale), operation: stale.operation, jobId: stale.job_id },
          'took over an install lock whose process is gone',
        );
      const release = () => {
        if (!held.delete(claim.token)) return;
        claim.dropped();
        // A backend that stopped meanwhile released it already, with its store.
        if (db.open) remove.run(install, claim.token);
      };
      held.set(claim.token, release);
      return release;
    },
    releaseAll() {
      for (const release of [...held.values()]) release();
    },
  };
}

function conflictError(install: string, row: LockRow): ApiError {
  return new ApiError(
    'INSTALL_CONFLICT',
    `The install ${install} is being changed already: ${row.operation}${row.job_id ? ` job ${row.job_id}` : ''} by ${describeHolder(row)}.`,
    'Wait for it to finish, or cancel it where it runs (the install’s page, or Ctrl+C in the terminal running it); then run this again. A lock whose process has died is taken over by the next run.',
  );
}
