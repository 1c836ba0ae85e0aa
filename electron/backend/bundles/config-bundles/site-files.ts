import fs from 'node:fs';
import path from 'node:path';
import type { ExportedSiteFile } from './config-document';

/**
 * The site's own rule files in the data directory (alert rules in alerts/, access policies in
 * policies/): the shipped ones come with the app, these travel in an export. They are files,
 * not rows, so an import writes each beside its place first and renames it into place only
 * after the store's transaction has committed: a refused import leaves no file behind.
 */
export const SITE_FOLDERS = ['alerts', 'policies'] as const;
/** What the loaders read: a name without a path, ending in .yaml or .yml. */
export const SITE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$/;
const MAX_FILE_BYTES = 1024 * 1024;

export function readSiteFiles(dataDir: string): ExportedSiteFile[] {
  const files: ExportedSiteFile[] = [];
  for (const folder of SITE_FOLDERS) {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dataDir, folder));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => SITE_FILE_NAME.test(n)).sort()) {
      const file = path.join(dataDir, folder, name);
      const stat = fs.statSync(file);
      if (!stat.isFile() || stat.size > MAX_FILE_BYTES) continue;
      files.push({ folder, name, text: fs.readFileSync(file, 'utf8') });
    }
  }
  return files;
}

/** What is at a file's place now: its text (null when there is none), or why an import cannot put a file there. */
export interface SiteFilePlace {
  text: string | null;
  blocked: string | null;
}

export function siteFilePlace(dataDir: string, file: Pick<ExportedSiteFile, 'folder' | 'name'>): SiteFilePlace {
  const shown = `${file.folder}/${file.name}`;
  const folder = path.join(dataDir, file.folder);
  // The folder may be a link to a directory (a checkout of the site's rules); anything else cannot hold the file.
  const folderStat = fs.statSync(folder, { throwIfNoEntry: false });
  if (folderStat && !folderStat.isDirectory()) return { text: null, blocked: `${file.folder} here is not a folder` };
  const target = path.join(folder, file.name);
  const stat = fs.lstatSync(target, { throwIfNoEntry: false });
  if (!stat) return { text: null, blocked: null };
  // A rename replaces whatever is there: only a plain file is ever replaced by an import.
  if (!stat.isFile())
    return { text: null, blocked: `${shown} here is ${stat.isDirectory() ? 'a folder' : 'not a plain file'}, not replaced by an import` };
  try {
    return { text: fs.readFileSync(target, 'utf8'), blocked: null };
  } catch (error) {
    return { text: null, blocked: `${shown} here cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
}

/** Files written beside their places, to be put in place (or dropped) once the store's transaction has ended. */
export interface StagedFiles {
  /**
   * Puts each file in place. Called after the store's transaction committed, so it never
   * throws: a file it could not put in place is dropped and answered with why.
   */
  commit(): Array<{ file: ExportedSiteFile; error: string }>;
  discard(): void;
}

export function stageSiteFiles(dataDir: string, files: readonly ExportedSiteFile[]): StagedFiles {
  const staged: Array<{ file: ExportedSiteFile; temp: string; target: string }> = [];
  const discard = () => {
    for (const { temp } of staged) fs.rmSync(temp, { force: true });
  };
  try {
    for (const file of files) {
      const folder = path.join(dataDir, file.folder);
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      const target = path.join(folder, file.name);
      const temp = `${target}.import-${process.pid}.tmp`;
      // A new file (never through a link or over one left behind): wx refuses both.
      fs.rmSync(temp, { force: true });
      fs.writeFileSync(temp, file.text, { mode: 0o600, flag: 'wx' });
      staged.push({ file, temp, target });
    }
  } catch (error) {
    discard();
    throw error;
  }
  return {
    commit() {
      const failed: Array<{ file: ExportedSiteFile; error: string }> = [];
      for (const { file, temp, target } of staged) {
        try {
          fs.renameSync(temp, target);
        } catch (error) {
          fs.rmSync(temp, { force: true });
          failed.push({ file, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
        }
      }
      return failed;
    },
    discard,
  };
}
