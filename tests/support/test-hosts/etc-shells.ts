import fs from 'node:fs';
import { runCommand, runCommandSync } from './run-command';
import { underSystemFilesLock } from './system-files-lock';

// Dropbear refuses a user whose login shell is not listed in /etc/shells. The file is
// rewritten by rename (readers never see half of it) under the harness lock (two runs never
// rewrite it at once), and lines are matched exactly. Not Debian's add-shell/remove-shell:
// they also add and remove the shell's realpath variant, and the BusyBox shell is a link to
// /usr/bin/busybox, so remove-shell would take the system's own /usr/bin/sh line with it.

const SHELLS = '/etc/shells';

// `cp -p` first so the new file keeps the old one's mode and owner.
const ADD_SCRIPT = `set -e
grep -qxF -- "$1" ${SHELLS} && exit 0
cp -p ${SHELLS} ${SHELLS}.szt-new
printf '%s\\n' "$1" >> ${SHELLS}.szt-new
mv -f ${SHELLS}.szt-new ${SHELLS}`;

// The lines to remove arrive on stdin, one per line, as fixed strings matched whole.
const REMOVE_SCRIPT = `set -e
cp -p ${SHELLS} ${SHELLS}.szt-new
grep -vxF -f - ${SHELLS} > ${SHELLS}.szt-new || true
mv -f ${SHELLS}.szt-new ${SHELLS}`;

export async function addShell(shell: string): Promise<void> {
  await runCommand(underSystemFilesLock(['/bin/sh', '-c', ADD_SCRIPT, 'szt-add-shell', shell]));
}

export function removeShellsSync(shells: readonly string[]): void {
  if (shells.length === 0) return;
  runCommandSync(underSystemFilesLock(['/bin/sh', '-c', REMOVE_SCRIPT, 'szt-remove-shell']), { input: shells.join('\n') + '\n' });
}

export function listShells(): string[] {
  return fs
    .readFileSync(SHELLS, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
