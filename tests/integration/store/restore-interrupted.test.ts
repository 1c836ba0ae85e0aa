import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSutazai, runSutazaiAsync } from '../../support/run-sutazai';
import { stoppedProcess } from '../../support/stopped-process';
import { makeTempDir } from '../../support/temp-dir';
import { countsWithoutClaim, hostNames, makeOldDirectory, OLD_HOST, startSutazai, withoutClaim } from './restore-kill-support';

/**
 * `sutazai restore --force` and `sutazai backup` killed at each of their steps (issue 15,
 * item 5): the CLI signals itself at a named step (SUTAZAI_TEST_FAILURE_POINT), as a kill or
 * a power cut would stop it there. After each, the data directory is whole — the old one or
 * the restored one, never a mix — once the next open of the store has settled what was left;
 * a restore holds the data directory's claim while it works; a killed backup's work folder
 * is swept by the next backup, and one stopped by SIGTERM removes its own.
 */

const PASSPHRASE = 'restore kill test passphrase';
// NODE_ENV=test: the CLI heeds SUTAZAI_TEST_FAILURE_POINT only under tests.
const env = { SUTAZAI_PASSPHRASE: PASSPHRASE, SUTAZAI_LOG_LEVEL: 'silent', NODE_ENV: 'test' };
const tmp = makeTempDir('sutazai-restore-kill-');
const source = path.join(tmp.path, 'source');
const backupFile = path.join(tmp.path, 'site.sutazai-backup');
const children = new Set<ChildProcess>();

let restoredCounts: Record<string, number>;

beforeAll(async () => {
  const first = runSutazai(['hosts', 'list', '--json'], source, env);
  expect(first.code, first.stderr).toBe(0);
  const made = await runSutazaiAsync(['backup', '--out', backupFile, '--json'], source, { env });
  expect(made.code, made.stderr).toBe(0);
  restoredCounts = withoutClaim((JSON.parse(made.stdout) as { tables: Record<string, number> }).tables);
}, 180_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  tmp.remove();
});

/** An occupied data directory beside others (`<name>/data`). */
const oldDirectory = (name: string) => makeOldDirectory(path.join(tmp.path, name, 'data'));
const start = (args: string[], dataDir: string, extra: Record<string, string>) =>
  startSutazai(args, dataDir, { ...env, ...extra }, children);

const siblings = (dataDir: string) => fs.readdirSync(path.dirname(dataDir)).filter((name) => name !== path.basename(dataDir));

describe('a restore killed at each step', () => {
  // Where the kill leaves the directory, once the next open has settled it: before the new one is in place, the old one.
  const cases: Array<[string, 'old' | 'restored']> = [
    ['restore-staged', 'old'],
    ['restore-set-aside', 'old'],
    ['restore-swapped', 'restored'],
    ['restore-old-removed', 'restored'],
  ];
  for (const [point, expected] of cases) {
    it(`killed at ${point}: the ${expected} directory, whole, and nothing left beside it`, async () => {
      const dataDir = oldDirectory(`kill-${point}`);
      const { exited } = start(['restore', backupFile, '--force'], dataDir, { SUTAZAI_TEST_FAILURE_POINT: `${point}:SIGKILL` });
      const end = await exited;
      expect(end.signal, end.stderr).toBe('SIGKILL');

      // The next open of the store (any command) finishes what the kill left.
      const list = runSutazai(['hosts', 'list', '--json'], dataDir, env);
      expect(list.code, list.stderr).toBe(0);
      const names = hostNames(dataDir);
      if (expected === 'old') expect(names).toContain(OLD_HOST);
      else {
        expect(names).not.toContain(OLD_HOST);
        // Every table as the backup counted it (the claim this restore held is the open's now, or gone).
        expect(countsWithoutClaim(dataDir)).toEqual(restoredCounts);
      }
      // The operator's files are there either way, and nothing of the restore is left beside the directory.
      expect(fs.readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('mine');
      expect(fs.readFileSync(path.join(dataDir, 'logs', 'control-center.log'), 'utf8')).toBe('an old log line\n');
      expect(fs.existsSync(path.join(dataDir, '.owner.json'))).toBe(false);
      expect(siblings(dataDir)).toEqual([]);

      // And a restore run again completes.
      const again = runSutazai(['restore', backupFile, '--force', '--json'], dataDir, env);
      expect(again.code, again.stderr).toBe(0);
      expect(hostNames(dataDir)).not.toContain(OLD_HOST);
      expect(siblings(dataDir)).toEqual([]);
    }, 180_000);
  }

  it('holds the data directory while it works: its claim is in the store, a second restore is refused', async () => {
    const dataDir = oldDirectory('claimed');
    const { child, exited } = start(['restore', backupFile, '--force'], dataDir, { SUTAZAI_TEST_FAILURE_POINT: 'restore-staged:SIGSTOP' });
    await stoppedProcess(child.pid!);
    try {
      const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true });
      try {
        expect(db.prepare('SELECT holder, owner_pid FROM data_dir_owner').all()).toEqual([{ holder: 'restore', owner_pid: child.pid }]);
      } finally {
        db.close();
      }
      const second = runSutazai(['restore', backupFile, '--force'], dataDir, env);
      expect(second.code).toBe(4);
      expect(second.stderr).toMatch(/DATA_DIR_IN_USE/);
      expect(second.stderr).toMatch(/sutazai restore \(pid/);
      expect(hostNames(dataDir)).toContain(OLD_HOST);
    } finally {
      child.kill('SIGCONT');
    }
    const end = await exited;
    expect(end.code, end.stderr).toBe(0);
    expect(hostNames(dataDir)).not.toContain(OLD_HOST);
    // Released: the restored store holds no claim.
    const db = new Database(path.join(dataDir, 'sutazai.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM data_dir_owner').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    expect(siblings(dataDir)).toEqual([]);
  }, 180_000);

  it('asks no password with --as: restore signs no one in, and says so before anything else', async () => {
    const dataDir = path.join(tmp.path, 'as', 'data');
    const run = await runSutazaiAsync(['restore', backupFile, '--as', 'admin'], dataDir, { env, stdin: 'not-asked\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/BAD_PARAMS/);
    expect(run.stderr).not.toMatch(/password/i);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('a backup killed while it works', () => {
  const workDirs = (dir: string) => fs.readdirSync(dir).filter((name) => /\.backup-/.test(name));

  it('SIGKILL leaves its work folder, which the next backup beside it sweeps', async () => {
    const outDir = path.join(tmp.path, 'backups-killed');
    fs.mkdirSync(outDir);
    const { child, exited } = start(['backup', '--out', path.join(outDir, 'a.sutazai-backup')], source, {
      SUTAZAI_TEST_FAILURE_POINT: 'backup-copied:SIGSTOP',
    });
    await stoppedProcess(child.pid!);
    expect(workDirs(outDir)).toHaveLength(1);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');
    // A kill cannot be answered: the folder (with its copy of the database) is still there.
    expect(workDirs(outDir)).toHaveLength(1);

    const next = await runSutazaiAsync(['backup', '--out', path.join(outDir, 'b.sutazai-backup')], source, { env });
    expect(next.code, next.stderr).toBe(0);
    expect(fs.readdirSync(outDir)).toEqual(['b.sutazai-backup']);
  }, 180_000);

  it('SIGTERM removes its own work folder on the way out', async () => {
    const outDir = path.join(tmp.path, 'backups-terminated');
    fs.mkdirSync(outDir);
    const { child, exited } = start(['backup', '--out', path.join(outDir, 'a.sutazai-backup')], source, {
      SUTAZAI_TEST_FAILURE_POINT: 'backup-copied:SIGSTOP',
    });
    await stoppedProcess(child.pid!);
    expect(workDirs(outDir)).toHaveLength(1);
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    await exited;
    expect(workDirs(outDir)).toEqual([]);
  }, 180_000);
});
