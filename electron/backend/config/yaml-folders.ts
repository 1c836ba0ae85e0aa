import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readCappedText, TextTooLargeError, YAML_FILE_LIMITS } from '../../../agents-runtime/src/wire';

export interface YamlFolderVisitor {
  /** A file's text (capped at YAML_FILE_LIMITS.maxBytes), with the folder it came from. */
  file(dir: string, file: string, text: string): void;
  /** A folder or file that could not be read: why, in words that follow "the rule folder" / "the rule file". */
  failed(at: string, why: string, kind: 'folder' | 'file'): void;
}

/**
 * Visits every *.yaml and *.yml file of the folders, in order (folders as given, files by
 * name), as rule folders are read (alert rules, access policies): a folder that does not exist
 * is skipped, one that cannot be read or a file too large or unreadable is reported, and
 * every other file is still visited.
 */
export function forEachYamlFile(folders: readonly string[], visit: YamlFolderVisitor): void {
  for (const dir of folders) {
    if (!existsSync(dir)) continue;
    let files: string[];
    try {
      files = readdirSync(dir)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort();
    } catch (error) {
      visit.failed(dir, `cannot be read (${(error as Error).message})`, 'folder');
      continue;
    }
    for (const name of files) {
      const file = path.join(dir, name);
      let text: string;
      try {
        text = readCappedText(file, YAML_FILE_LIMITS.maxBytes);
      } catch (error) {
        visit.failed(file, error instanceof TextTooLargeError ? error.message : `cannot be read (${(error as Error).message})`, 'file');
        continue;
      }
      visit.file(dir, file, text);
    }
  }
}

/** What changes when a YAML file of the folders is added, removed or edited: re-read the folders when it does. */
export function yamlFoldersSignature(folders: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of folders) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name));
    } catch {
      parts.push(`${dir}:absent`);
      continue;
    }
    for (const name of names.sort()) {
      try {
        const stat = statSync(path.join(dir, name));
        parts.push(`${dir}/${name}:${stat.mtimeMs}:${stat.size}`);
      } catch {
        parts.push(`${dir}/${name}:gone`);
      }
    }
  }
  return parts.join('\n');
}
