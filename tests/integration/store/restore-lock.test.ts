import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { processStartTime } from '../../../electron/backend/store/owner-process';
import { restoreBackup } from '../../../electron/backend/store/restore-backup';
import { settleInterruptedRestore } from '../../../electron/backend/store/restore-swap';
import { makeTempDir } from '../../support/temp-dir';

/**
 * One in-place restore at a time into a data directory that is a mount point (a real tmpfs):
 * a restore holds `.sutazai-restore.lock` (naming its pid) from its settle step through the
 * swap's end, so a second one started meanwhile — even into an empty mount, before the first
 * has a journal or a staging folder — is refused with DATA_DIR_IN_USE naming that pid, and a
 * store open is refused too; a dead restore's lock is taken over.
 */

const LOCK = '.sutazai-restore.lock';
const DEAD_PID = 2 ** 22 + 1; // above Linux's pid_max: never a live process
const tmp = makeTempDir('sutazai-restore-lock-');
const mounted: string[] = [];
const children = new Set<ChildProcess>();
// Not a backup at all: a restore that gets past the lock refuses it (BACKUP_INVALID) before anything is staged.
const notABackup = path.join(tmp.path, 'not-a-backup');
fs.writeFileSync(notABackup, 'not a tar archive');

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of mounted.reverse()) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // Not mounted (its test failed before mounting it): nothing to undo.
    }
  }
  tmp.remove();
});

function emptyMount(name: string): string {
  const dir = path.join(tmp.path, name, 'vol');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

/** A live process other than this one, as a restore running elsewhere would be. */
function liveOtherProcess(): number {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.add(child);
  return child.pid!;
}

async function restoreError(dataDir: string): Promise<ApiError> {
  try {
    await restoreBackup({ file: notABackup, dataDir, force: true, knownSchema: 1_000 });
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('the restore did not refuse');
}

describe('the in-place restore lock', () => {
  it('a second restore into an empty mount while another holds the lock: DATA_DIR_IN_USE naming its pid, the lock kept', async () => {
    const dataDir = emptyMount('held');
    const pid = liveOtherProcess();
    const lock = JSON.stringify({ pid, startedAt: processStartTime(pid) });
    fs.writeFileSync(path.join(dataDir, LOCK), lock);

    const error = await restoreError(dataDir);
    expect(error.code).toBe('DATA_DIR_IN_USE');
    expect(error.message).toContain(`pid ${pid}`);
    expect(error.remedy).toContain(`kill ${pid}`);
    expect(fs.readFileSync(path.join(dataDir, LOCK), 'utf8')).toBe(lock);
    expect(fs.readdirSync(dataDir).filter((name) => name !== 'lost+found')).toEqual([LOCK]);

    // A store open (which settles first) is refused while that restore runs, before it has a journal.
    expect(() => settleInterruptedRestore(dataDir)).toThrow(`pid ${pid}`);
  });

  it("a dead restore's lock is taken over, and released when the restore ends", async () => {
    const dataDir = emptyMount('dead');
    fs.writeFileSync(path.join(dataDir, LOCK), JSON.stringify({ pid: DEAD_PID, startedAt: null }));

    const error = await restoreError(dataDir);
    expect(error.code).toBe('BACKUP_INVALID');
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith(LOCK))).toEqual([]);
  });

  it("the next store open's settle removes a killed restore's lock", () => {
    const dataDir = emptyMount('killed');
    fs.writeFileSync(path.join(dataDir, LOCK), JSON.stringify({ pid: DEAD_PID, startedAt: null }));

    expect(settleInterruptedRestore(dataDir)).toBe('nothing');
    expect(fs.readdirSync(dataDir).filter((name) => name.startsWith(LOCK))).toEqual([]);
  });
});
