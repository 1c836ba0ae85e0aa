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

export function siteFileText(dataDir: string, file: Pick<ExportedSiteFile, 'folder' | 'name'>): string | null {
  try {
    return fs.readFileSync(path.join(dataDir, file.folder, file.name), 'utf8');
  } catch {
    return null;
  }
}

/** Files written beside their places, to be put in place (or dropped) once the store's transaction has ended. */
export interface StagedFiles {
  commit(): void;
  discard(): void;
}

export function stageSiteFiles(dataDir: string, files: readonly ExportedSiteFile[]): StagedFiles {
  const staged: Array<{ temp: string; target: string }> = [];
  const discard = () => {
    for (const { temp } of staged) fs.rmSync(temp, { force: true });
  };
  try {
    for (const file of files) {
      const folder = path.join(dataDir, file.folder);
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      const target = path.join(folder, file.name);
      const temp = `${target}.import-${process.pid}.tmp`;
      fs.writeFileSync(temp, file.text, { mode: 0o600 });
      staged.push({ temp, target });
    }
  } catch (error) {
    discard();
    throw error;
  }
  return {
    commit() {
      for (const { temp, target } of staged) fs.renameSync(temp, target);
    },
    discard,
  };
}
