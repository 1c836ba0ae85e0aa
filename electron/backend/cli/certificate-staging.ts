import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalizeSerial } from '../../../agents-runtime/src/wire';

/**
 * The private staging folder `operators certificate issue` writes an issued certificate's
 * files in before linking them to their names (credential-commands.ts). A run killed outright
 * (SIGKILL, a power cut) cannot remove it, nor revoke the certificate whose key is in it; the
 * next run in the same --out folder sweeps such folders and answers the serials they held, to
 * be revoked. Its name carries the pid of the run that made it and the machine's name, so a
 * run still going (another terminal) is never swept, and a folder of another machine (a shared
 * --out) is not judged by a pid of this one.
 */
const PREFIX = '.sutazai-certificate-';
/**
 * `.sutazai-certificate-<pid>-<machine>-XXXXXX` (mkdtemp's six characters), `<pid>-XXXXXX` of
 * the release before (this machine's), or the pid-less name of earlier releases.
 */
const STAGING_NAME = /^\.sutazai-certificate-(?:(\d{1,10})-(?:([A-Za-z0-9]{1,32})-)?)?[A-Za-z0-9]{6}$/;
/** A folder whose run cannot be asked (pid-less, or another machine's) is swept only this much older than the run. */
const UNASKABLE_MIN_AGE_MS = 60 * 60 * 1000;
/** The most of a staged certificate or key read. */
const MAX_FILE_BYTES = 64 * 1024;
/**
 * How much later than the folder's last change a live pid's process must have started to be
 * taken as another process under a reused pid: /proc's start time is whole seconds of boot time
 * plus clock ticks, so it can read up to a second early or late.
 */
const START_TIME_SLACK_MS = 1000;

/** The machine's name as it goes into a folder name: letters and digits, at most 32. */
export function machineTag(hostname = os.hostname()): string {
  return hostname.replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'host';
}

/** The staging folder's name prefix for this run, for mkdtemp. */
export function stagingPrefix(folder: string): string {
  return path.join(folder, `${PREFIX}${process.pid}-${machineTag()}-`);
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
 * began (`runStartedMs`), and made by a pid that no longer runs, or runs as a process started
 * after the folder last changed (a reused pid; where /proc tells), or (pid-less, another
 * machine's) an hour older. The folder is opened once, without following a link, and checked to
 * be the one looked at; its files are read through that handle where /proc gives one. A serial
 * is answered only for a certificate file and key file owned by this user whose key is the
 * certificate's: a certificate named in a folder someone else filled is not revoked on its word.
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
  const here = machineTag();
  for (const name of names) {
    const match = STAGING_NAME.exec(name);
    if (match === null) continue;
    const full = path.join(folder, name);
    const stat = fs.lstatSync(full, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || (uid !== undefined && stat.uid !== uid) || stat.mtimeMs >= runStartedMs) continue;
    const pid = match[1] === undefined ? null : Number(match[1]);
    const askable = pid !== null && (match[2] === undefined || match[2] === here);
    if (!askable ? stat.mtimeMs > runStartedMs - UNASKABLE_MIN_AGE_MS : !runGone(pid, stat.mtimeMs)) continue;
    const staged = sweepFolder(full, stat, uid);
    if (staged === 'not-swept') continue;
    swept.removed.push(name);
    if (staged.serial !== null) swept.serials.push(staged.serial);
  }
  return swept;
}

/** Whether the run that made a folder last changed at `changedMs` is gone: its pid runs no more, or runs a later process. */
function runGone(pid: number, changedMs: number): boolean {
  if (pid === process.pid) return false;
  if (!isRunning(pid)) return true;
  const started = processStartMs(pid);
  return started !== null && started > changedMs + START_TIME_SLACK_MS;
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

/** Linux's clock ticks a second in /proc (USER_HZ: 100 on every architecture Node ships for). */
const USER_HZ = 100;

/** When process `pid` started, in ms since the epoch, from /proc; null where there is no /proc or it cannot be read. */
export function processStartMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name (in parentheses, which may itself hold any character).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    if (btime === null || !Number.isSafeInteger(ticks)) return null;
    return Number(btime[1]) * 1000 + (ticks * 1000) / USER_HZ;
  } catch {
    return null;
  }
}

const sameFile = (a: fs.Stats, b: fs.Stats) => a.dev === b.dev && a.ino === b.ino;

/**
 * Reads the staged certificate's serial and removes the folder at `full`, which was `looked`
 * (lstat) a moment ago: 'not-swept' when the folder opened is not that one (renamed in between)
 * or is no longer there as it was when about to be removed.
 */
function sweepFolder(full: string, looked: fs.Stats, uid: number | undefined): { serial: string | null } | 'not-swept' {
  let dirFd: number;
  try {
    dirFd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch {
    return 'not-swept';
  }
  try {
    const opened = fs.fstatSync(dirFd);
    if (!sameFile(opened, looked) || (uid !== undefined && opened.uid !== uid)) return 'not-swept';
    // Node has no openat: /proc/self/fd/<fd> is the folder opened, whatever is renamed to its name meanwhile.
    const viaFd = `/proc/self/fd/${dirFd}`;
    const base = fs.existsSync(viaFd) ? viaFd : full;
    const serial = stagedSerial(base, uid);
    // Without /proc the files were read by path: the folder must still be the one opened.
    const still = fs.lstatSync(full, { throwIfNoEntry: false });
    if (still === undefined || !sameFile(still, opened)) return 'not-swept';
    // Its entries go through the handle (links inside as links), then the folder, empty, by its name: a
    // folder renamed there in between is not empty, so rmdir leaves it.
    for (const entry of fs.readdirSync(base)) fs.rmSync(path.join(base, entry), { recursive: true, force: true });
    try {
      fs.rmdirSync(full);
    } catch {
      return 'not-swept';
    }
    return { serial };
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * The serial of the certificate staged in `dir` (`cert`, with its key in `key`), or null: both
 * plain files (opened without following a link), owned by this user, and the key the
 * certificate's. A certificate whose key is not beside it was not staged by a run of ours.
 */
function stagedSerial(dir: string, uid: number | undefined): string | null {
  const cert = readOwnFile(path.join(dir, 'cert'), uid);
  const key = readOwnFile(path.join(dir, 'key'), uid);
  if (cert === null || key === null) return null;
  try {
    const certificate = new X509Certificate(cert);
    if (!certificate.checkPrivateKey(createPrivateKey(key))) return null;
    // The serial as the control center records it (lower-case hex).
    return normalizeSerial(certificate.serialNumber);
  } catch {
    return null;
  }
}

/** At most MAX_FILE_BYTES of a plain file owned by `uid`, opened without following a link; null otherwise. */
function readOwnFile(file: string, uid: number | undefined): Buffer | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid)) return null;
    const buffer = Buffer.alloc(MAX_FILE_BYTES);
    const length = fs.readSync(fd, buffer, 0, MAX_FILE_BYTES, 0);
    return buffer.subarray(0, length);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
