import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { claimDataDir } from '../../../electron/backend/store/data-dir-owner-repo';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazaiAsync } from '../../support/run-sutazai';
import { addStandInHost } from '../../support/stand-in-rows';
import { stoppedProcess } from '../../support/stopped-process';
import { makeTempDir } from '../../support/temp-dir';

/**
 * A restore into an empty data directory (review of issue 15 item 5): a backend that starts
 * on that directory while the backup is unpacked holds the store's claim by the time the
 * restore would swap it. The restore must stop there (DATA_DIR_IN_USE), not rename the
 * serving backend's directory away and remove it with what it wrote. A backend of this
 * version does not start at all while the restore runs (DATA_DIR_IN_USE).
 */

// NODE_ENV=test: the CLI heeds SUTAZAI_TEST_FAILURE_POINT only under tests.
const env = { SUTAZAI_PASSPHRASE: 'restore late backend passphrase', SUTAZAI_LOG_LEVEL: 'silent', NODE_ENV: 'test' };
const tmp = makeTempDir('sutazai-restore-late-');
const backupFile = path.join(tmp.path, 'site.sutazai-backup');
const children = new Set<ChildProcess>();

beforeAll(async () => {
  const made = await runSutazaiAsync(['backup', '--out', backupFile, '--json'], path.join(tmp.path, 'source'), { env });
  expect(made.code, made.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  tmp.remove();
});

it('stops before the swap when a backend started on the empty directory meanwhile, and leaves its store whole', async () => {
  const dataDir = path.join(tmp.path, 'late', 'data');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SUTAZAI_')));
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/sutazai.mjs'), 'restore', backupFile], {
    cwd: path.resolve(__dirname, '../../..'),
    env: { ...clean, SUTAZAI_DATA_DIR: dataDir, ...env, SUTAZAI_TEST_FAILURE_POINT: 'restore-staged:SIGSTOP' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await stoppedProcess(child.pid!);

  // A backend of this version that starts now sees the running restore and refuses (its staged directory names it).
  expect(() => openStore({ dataDir })).toThrow(
    expect.objectContaining({ code: 'DATA_DIR_IN_USE', message: expect.stringMatching(/sutazai restore \(pid \d+\)/) }),
  );
  expect(fs.existsSync(path.join(dataDir, 'sutazai.db'))).toBe(false);

  // One that does not look for a running restore (an older version) starts on the directory the
  // restore found empty: its store (made elsewhere, as ours), its claim, a host it records.
  const elsewhere = path.join(tmp.path, 'late-elsewhere');
  openStore({ dataDir: elsewhere }).close();
  fs.copyFileSync(path.join(elsewhere, 'sutazai.db'), path.join(dataDir, 'sutazai.db'));
  const db = new Database(path.join(dataDir, 'sutazai.db'), { fileMustExist: true });
  const release = claimDataDir(db, { holder: 'test', dataDir, now: Date.now });
  try {
    addStandInHost(db, 'late-host', '198.18.9.9');
    child.kill('SIGCONT');
    expect(await exited, stderr).toBe(4);
    expect(stderr).toMatch(/DATA_DIR_IN_USE/);
    // The serving store is where it was, with what it wrote; nothing of the restore is left beside it.
    const names = db.prepare<[], { name: string }>('SELECT name FROM hosts').all();
    expect(names.map((r) => r.name)).toContain('late-host');
    expect(fs.existsSync(path.join(dataDir, 'sutazai.db'))).toBe(true);
    expect(fs.readdirSync(path.dirname(dataDir))).toEqual(['data']);
  } finally {
    release();
    db.close();
  }
}, 180_000);
