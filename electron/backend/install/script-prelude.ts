/**
 * The start of every script that changes a host: stop at the first failure, and say on
 * stdout (`created<TAB>path`) every directory, link or file made where nothing was, so
 * the install records exactly what uninstall removes. `mkd` names the top-most directory
 * it created, not each level below it.
 */
export const SCRIPT_PRELUDE = `set -eu
umask 022
created() { printf 'created\\t%s\\n' "$1"; }
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
`;

/** The paths a script reported as created, in order, each once. */
export function createdPaths(stdout: string): string[] {
  const paths = stdout
    .split('\n')
    .filter((line) => line.startsWith('created\t'))
    .map((line) => line.slice('created\t'.length).trim())
    .filter((p) => p !== '');
  return [...new Set(paths)];
}

/** What a script said, without the created lines (those go to the record, not the output). */
export function scriptOutput(stdout: string, stderr: string): string {
  const said = stdout
    .split('\n')
    .filter((line) => !line.startsWith('created\t'))
    .join('\n')
    .trim();
  return [said, stderr.trim()].filter((part) => part !== '').join('\n');
}

/** The paths a script reported as removed (`removed<TAB>path`), in order. */
export function removedPaths(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('removed\t'))
    .map((line) => line.slice('removed\t'.length).trim())
    .filter((p) => p !== '');
}
