import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { normalizeSerial } from '../../../agents-runtime/src/wire';

/**
 * The private staging folder `operators certificate issue` writes an issued certificate's
 * files in before linking them to their names (credential-commands.ts). A run killed outright
 * (SIGKILL, a power cut) cannot remove it, nor revoke the certificate whose key is in it; the
 * next run in the same --out folder sweeps such folders and answers the serials they held, to
 * be revoked. Its name carries the pid of the run that made it, so a run still going (another
 * terminal) is never swept.
 */
const PREFIX = '.sutazai-certificate-';
/** `.sutazai-certificate-<pid>-XXXXXX` (mkdtemp's six characters), or the pid-less name of earlier releases. */
const STAGING_NAME = /^\.sutazai-certificate-(?:(\d{1,10})-)?[A-Za-z0-9]{6}$/;
/** A pid-less folder of an earlier release is swept only this much older than the run: its owner cannot be asked. */
const PIDLESS_MIN_AGE_MS = 60 * 60 * 1000;
/** The most of a staged certificate read to learn its serial. */
const MAX_CERT_BYTES = 64 * 1024;

/** The staging folder's name prefix for this run, for mkdtemp. */
export function stagingPrefix(folder: string): string {
  return path.join(folder, `${PREFIX}${process.pid}-`);
}

export interface SweptStaging {
  /** The folders removed (names inside --out). */
  removed: string[];
  /** The serials of the certificates staged in them (each must be revoked: nobody holds its key but that folder). */
  serials: string[];
}

/**
 * Removes from `folder` every staging folder left by a run that is gone: named as above, a real
 * directory (never a link, never followed), owned by this user, last changed before this run
 * began (`runStartedMs`), and made by a pid that no longer runs (or, pid-less, an hour older).
 * What is in it is read without following links, only to learn the staged certificate's serial.
 */
export function sweepStaleStaging(folder: string, runStartedMs: number): SweptStaging {
  const swept: SweptStaging = { removed: [], serials: [] };
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = fs.readdirSync(folder);
  } catch {
    return swept;
  }
  for (const name of names) {
    const match = STAGING_NAME.exec(name);
    if (match === null) continue;
    const full = path.join(folder, name);
    const stat = fs.lstatSync(full, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || (uid !== undefined && stat.uid !== uid) || stat.mtimeMs >= runStartedMs) continue;
    const pid = match[1] === undefined ? null : Number(match[1]);
    if (pid === null ? stat.mtimeMs > runStartedMs - PIDLESS_MIN_AGE_MS : pid === process.pid || isRunning(pid)) continue;
    const serial = stagedSerial(path.join(full, 'cert'));
    // rmSync removes links inside as links; the folder itself was checked not to be one just above.
    fs.rmSync(full, { recursive: true, force: true });
    swept.removed.push(name);
    if (serial !== null) swept.serials.push(serial);
  }
  return swept;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The serial of the certificate staged at `file` (a plain file, opened without following a link), or null. */
function stagedSerial(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) return null;
    const buffer = Buffer.alloc(MAX_CERT_BYTES);
    const length = fs.readSync(fd, buffer, 0, MAX_CERT_BYTES, 0);
    // The serial as the control center records it (lower-case hex).
    return normalizeSerial(new X509Certificate(buffer.subarray(0, length)).serialNumber);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
