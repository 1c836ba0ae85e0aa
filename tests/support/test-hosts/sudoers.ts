import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from './run-command';

// The run's sudo rules as one drop-in. sudo reads /etc/sudoers.d on every call, so a torn
// or invalid file would break sudo for the whole machine: the file is checked with
// `visudo -cf` first and appears by rename (sudo skips names containing a dot).

export interface SudoRule {
  user: string;
  passwordRequired: boolean;
}

export function renderSudoers(rules: readonly SudoRule[], quietUsers: readonly string[]): string {
  const lines = ['# SutazAI test-host harness: removed when the run ends.'];
  for (const user of quietUsers) {
    // No lecture on first use; no cached credentials, so "asks for a password" stays true.
    lines.push(`Defaults:${user} lecture=never, timestamp_timeout=0`);
  }
  for (const rule of rules) {
    lines.push(`${rule.user} ALL=(ALL:ALL) ${rule.passwordRequired ? '' : 'NOPASSWD: '}ALL`);
  }
  return lines.join('\n') + '\n';
}

export async function installSudoers(file: string, content: string): Promise<void> {
  const staged = path.join(path.dirname(file), `.${path.basename(file)}.new`);
  fs.writeFileSync(staged, content, { mode: 0o440 });
  try {
    fs.chmodSync(staged, 0o440);
    await runCommand(['/usr/sbin/visudo', '-c', '-q', '-f', staged]);
    fs.renameSync(staged, file);
  } finally {
    fs.rmSync(staged, { force: true });
  }
}

/** Where sudo keeps per-user state: credential timestamps and "already lectured" marks. */
export const SUDO_STATE_DIRS = ['/run/sudo/ts', '/var/lib/sudo/lectured'];

export function removeSudoersSync(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(path.join(path.dirname(file), `.${path.basename(file)}.new`), { force: true });
}
