import fs from 'node:fs';
import path from 'node:path';
import type { FilesystemFacts, InstallPathFacts } from '../../contract';

/**
 * The install path's filesystem on this machine: the deepest part of the path that
 * exists, its free space from statfs and its mount from the filesystem list.
 */
export function readLocalInstallPath(installPath: string, filesystems: FilesystemFacts[] | null): InstallPathFacts | null {
  let existing = path.resolve(installPath);
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) return null;
    existing = parent;
  }
  let real = existing;
  try {
    real = fs.realpathSync(existing);
  } catch {
    // Unreadable on the way: the path itself is the best guess.
  }
  const stats = fs.statfsSync(existing);
  const mount = [...(filesystems ?? [])]
    .filter((f) => real === f.mount || real.startsWith(f.mount.endsWith(path.sep) ? f.mount : `${f.mount}${path.sep}`))
    .sort((a, b) => b.mount.length - a.mount.length)[0];
  let writable = false;
  try {
    fs.accessSync(existing, fs.constants.W_OK);
    writable = true;
  } catch {
    // Not writable without sudo.
  }
  return {
    path: installPath,
    existingPath: existing,
    writable,
    filesystemDevice: mount?.device ?? '',
    filesystemMount: mount?.mount ?? '',
    sizeBytes: stats.blocks * stats.bsize,
    availableBytes: stats.bavail * stats.bsize,
  };
}
