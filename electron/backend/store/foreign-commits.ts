import type Database from 'better-sqlite3';

/** How often a serving backend looks for another process's commits: a revoke from the CLI reaches the runtimes within this. */
export const FOREIGN_COMMIT_POLL_MS = 1_000;

/**
 * Calls `onCommit` once after another connection (another process on the same data
 * directory: the CLI's `operators certificate revoke`, `access rotate-key`, `operators remove`)
 * committed to the store. SQLite's `PRAGMA data_version` changes only for commits made by
 * other connections, so this connection's own writes (metrics, every call's audit entry) never
 * wake it, and a look costs no read of the database file. Returns the stop.
 */
export function watchForeignCommits(
  db: Pick<Database.Database, 'pragma'>,
  onCommit: () => void,
  everyMs: number = FOREIGN_COMMIT_POLL_MS,
): () => void {
  const version = () => Number(db.pragma('data_version', { simple: true }));
  let seen = version();
  const timer = setInterval(() => {
    let now: number;
    try {
      now = version();
    } catch {
      // The store is closing under the timer: the stop is on its way.
      return;
    }
    if (now === seen) return;
    seen = now;
    onCommit();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
