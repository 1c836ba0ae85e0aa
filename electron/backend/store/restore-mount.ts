import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../contract';

/**
 * Whether `target` is a mount point (a Docker volume, a disk of its own, a bind mount): the
 * kernel refuses to rename one (EBUSY) or to rename across one (EXDEV). Its device differing
 * from its parent's is the sign everywhere; Linux also lists every mount, a bind mount of the
 * same device too, in /proc/self/mountinfo. `/` is one.
 */
export function isMountPoint(target: string): boolean {
  const parent = path.dirname(target);
  if (parent === target) return true;
  return fs.statSync(target).dev !== fs.statSync(parent).dev || listedMountPoint(fs.realpathSync(target));
}

/** /proc/self/mountinfo's field 5 is each mount point, with octal escapes for space, tab, newline and backslash. */
function listedMountPoint(target: string): boolean {
  let table: string;
  try {
    table = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  const unescape = (text: string) => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return table.split('\n').some((line) => {
    const field = line.split(' ')[4];
    return field !== undefined && unescape(field) === target;
  });
}

/** A rename the kernel refused because its source or target is a mount point or on another filesystem. */
export function renameOntoMount(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EBUSY' || code === 'EXDEV';
}

/**
 * The data directory turned out to be a mount point only when it was renamed (a system that
 * reports neither a device of its own nor a mount table: a restore restages inside it when
 * it sees one beforehand).
 */
export function unseenMountPointError(dataDir: string): ApiError {
  return new ApiError(
    'RESTORE_TARGET_IS_MOUNT_POINT',
    `The data directory ${dataDir} is a mount point this system did not report as one (the rename that replaces it was refused); nothing was restored.`,
    `Point --data-dir at a folder inside the mount (for example ${path.join(dataDir, 'data')}) and restore there, then use that folder as the data directory.`,
  );
}

/**
 * An entry a restore replaces (the database, `bundles/`) is itself a mount point (a file or
 * a folder bind-mounted into the data directory): it cannot be renamed aside, so nothing is
 * moved. The only case where a restore onto a mount is refused.
 */
export function entryMountPointError(dataDir: string, entry: string): ApiError {
  const target = path.join(dataDir, entry);
  return new ApiError(
    'RESTORE_TARGET_IS_MOUNT_POINT',
    `${target} is a mount point of its own inside the data directory: a restore replaces it by a rename, which a mount point cannot take; nothing was restored.`,
    `Unmount it (umount ${target}) and mount its volume as the whole data directory instead (or copy its contents in), then restore again.`,
  );
}
