import os from 'node:os';

/**
 * The local account, machine and process, for an audit entry made with no operator signed in
 * (break-glass, web mode's certificate issued at start): the filesystem access is the proof,
 * so the entry names whose it was.
 */
export function localUser(): string {
  let user = `uid ${process.getuid?.() ?? '?'}`;
  try {
    user = `${os.userInfo().username} (${user})`;
  } catch {
    // An account without a passwd entry (a container's bare uid): the uid alone.
  }
  return `${user} on ${os.hostname()}, pid ${process.pid}`;
}
