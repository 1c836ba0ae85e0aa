import { SYSTEM_FILES_LOCK } from './run-registry';

const LOCK_WAIT_S = 20;

/**
 * argv wrapped in flock(1) on the harness's lock: edits of /etc/passwd, /etc/shells and
 * /etc/sudoers.d from several test processes at once take turns instead of racing.
 * The kernel drops the lock when the holder dies, so a crash cannot wedge it.
 */
export function underSystemFilesLock(argv: readonly string[]): string[] {
  return ['/usr/bin/flock', '-w', String(LOCK_WAIT_S), SYSTEM_FILES_LOCK, ...argv];
}
