import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { hasControlCharacter } from '../../config/install-config-schema';
import { rawShell, sh, type ShellScript } from './shell-script';

/**
 * The start of every script that changes a host: stop at the first failure, and report
 * every directory, link or file made where nothing was (`created PATH`) and every path
 * removed (`removed PATH`), so the install records exactly what uninstall removes. `mkd`
 * names the top-most directory it created, not each level below it.
 *
 * A report is a record the host's other output cannot forge: it carries a key made afresh
 * for each run (set by keyedScript, never shown on the host but in this script's stdin) and
 * the path ends at a NUL byte, which no path holds; a newline or a tab in a path is part of
 * the path, never a second record.
 */
export const SCRIPT_PRELUDE = rawShell(`set -eu
umask 022
record() { printf '\\n@@sutazai-record %s %s %s\\0\\n' "$sutazai_record_key" "$1" "$2"; }
created() { record created "$1"; }
fail() { echo "$*" >&2; exit 1; }
mkd() {
  for d in "$@"; do
    if [ -d "$d" ]; then continue; fi
    top=$d
    while p=$(dirname "$top"); [ ! -d "$p" ]; do top=$p; done
    mkdir -p "$d"
    created "$top"
  done
}
`);

/** A script with a fresh record key set before it: what runs, and the key its records carry. */
export function keyedScript(script: ShellScript): { script: ShellScript; key: string } {
  const key = randomBytes(12).toString('hex');
  return { script: sh`sutazai_record_key=${key}\n${script}`, key };
}

export interface ScriptRecords {
  created: string[];
  removed: string[];
  /** What the script printed, without its records. */
  stdout: string;
}

/** The records of a run (in order, each once) and the rest of its stdout. */
export function readRecords(stdout: string, key: string): ScriptRecords {
  const created: string[] = [];
  const removed: string[] = [];
  const pattern = new RegExp(`\\n@@sutazai-record ${key} (created|removed) ([^\\0]*)\\0\\n`, 'g');
  const rest = stdout.replace(pattern, (_all, kind: string, value: string) => {
    (kind === 'created' ? created : removed).push(value);
    return '\n';
  });
  return { created: [...new Set(created)], removed: [...new Set(removed)], stdout: rest };
}

/** What a script said: its stdout without the records, then its stderr. */
export function scriptOutput(stdout: string, stderr: string): string {
  return [stdout.trim(), stderr.trim()].filter((part) => part !== '').join('\n');
}

/**
 * The paths of `reported` that a step may have made: each one of `planned` or a directory
 * above one (mkd names the top-most directory it made), never `/`, and written plainly (no
 * `.` or `..`, no doubled or trailing slash). Anything else is not recorded.
 */
export function withinPlan(reported: readonly string[], planned: readonly string[]): { kept: string[]; refused: string[] } {
  const kept: string[] = [];
  const refused: string[] = [];
  for (const p of reported) {
    const fits = isPlainAbsolute(p) && planned.some((m) => m === p || m.startsWith(`${p}/`));
    (fits ? kept : refused).push(p);
  }
  return { kept, refused };
}

/** An absolute path written plainly: what path.posix.normalize leaves as it is, not `/`, with no control character. */
export function isPlainAbsolute(p: string): boolean {
  return p.startsWith('/') && p !== '/' && path.posix.normalize(p) === p && !p.endsWith('/') && !hasControlCharacter(p);
}
