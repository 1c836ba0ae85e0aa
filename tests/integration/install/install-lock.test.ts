// One writer per install across processes: a claim held by one process (this test, as a
// web-mode backend running a job would hold it) refuses `sutazai apply`, `rollback` and
// `uninstall` of that install in another (the real CLI as a child), before any host is
// touched; a claim whose process died, or whose pid now belongs to another process, is
// taken over.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend } from '../../../electron/backend/app/backend';
import { currentJob } from '../../../electron/backend/install/jobs/job-context';
import { createInstallLocks } from '../../../electron/backend/store/install-locks-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-install-lock-');
const dataDir = path.join(dir.path, 'data');
const installFile = path.join(dir.path, 'install.yaml');
const CLI_TIMEOUT_MS = 120_000;
let store: Store;

function sutazai(args: string[]): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir);
}

const lockRow = () =>
  store.db.prepare('SELECT operation, job_id AS jobId, owner_pid AS pid FROM install_locks WHERE install_name = ?').get('lock-lab');

beforeAll(async () => {
  // A host that does not exist: a refused run must stop before looking for it.
  fs.writeFileSync(
    installFile,
    ['name: lock-lab', `bundle: ${path.join(dir.path, 'no-such.sutazai-bundle')}`, 'hosts:', '  - name: nowhere', '    role: both'].join(
      '\n',
    ),
  );
  store = openStore({ dataDir });
  // Build once up front so each case measures the command, not the bundler.
  expect((await sutazai(['help'])).code).toBe(0);
}, CLI_TIMEOUT_MS);
afterAll(() => {
  store?.close();
  dir.remove();
});

describe('install lock across processes', () => {
  it(
    'refuses apply, rollback and uninstall from another process with INSTALL_CONFLICT naming the job and its process',
    async () => {
      const release = createInstallLocks(store.db, { holder: 'web', now: Date.now }).claim('lock-lab', {
        operation: 'upgrade',
        jobId: 'job-7f3a',
      });
      try {
        for (const command of ['apply', 'rollback', 'uninstall']) {
          const refused = await sutazai([command, '--install', installFile]);
          expect(refused.stderr, command).toContain(
            'error INSTALL_CONFLICT: The install lock-lab is being changed already: upgrade job job-7f3a by web mode (pid ' + process.pid,
          );
          expect(refused.stderr).toContain('remedy: Wait for it to finish');
          expect(refused.code).toBe(12);
        }
        expect(lockRow()).toEqual({ operation: 'upgrade', jobId: 'job-7f3a', pid: process.pid });
      } finally {
        release();
      }
      expect(lockRow()).toBeUndefined();
      // Free again: the run gets past the lock (and stops at the missing bundle file, nowhere near a host), releasing it.
      const free = await sutazai(['apply', '--install', installFile]);
      expect(free.stderr).not.toContain('INSTALL_CONFLICT');
      expect(free.code).not.toBe(0);
      expect(lockRow()).toBeUndefined();
    },
    4 * CLI_TIMEOUT_MS,
  );

  it(
    'takes over a claim whose process died, or whose pid now belongs to another process',
    async () => {
      const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
      const write = (pid: number, started: string | null) =>
        store.db
          .prepare(
            "INSERT OR REPLACE INTO install_locks (install_name, operation, job_id, holder, owner_pid, owner_started, token, acquired_at) VALUES ('lock-lab', 'apply', NULL, 'cli', ?, ?, 'left-behind', 1)",
          )
          .run(pid, started);
      for (const [pid, started] of [
        [dead, '1'],
        // This process's pid, with a start time it does not have: the pid was reused.
        [process.pid, '1'],
      ] as const) {
        write(pid, started);
        const run = await sutazai(['apply', '--install', installFile]);
        expect(run.stderr).not.toContain('INSTALL_CONFLICT');
        expect(lockRow()).toBeUndefined();
      }
    },
    4 * CLI_TIMEOUT_MS,
  );

  it('names the API job holding the install to a second writer in the same process', async () => {
    const backend = await startBackend({
      dataDir,
      logLevel: 'info',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
    });
    const api = backend.openClient('test');
    try {
      const running = currentJob.run({ id: 'job-in-api', kind: 'apply' }, () =>
        api.call('installs.applyFile', { file: { path: installFile } }),
      );
      // The call crosses the in-process pipe in a microtask, and the engine takes its claim
      // before its first I/O: follow it microtask by microtask (no I/O can end the run meanwhile).
      for (let hop = 0; hop < 100 && lockRow() === undefined; hop++) await Promise.resolve();
      expect(() =>
        createInstallLocks(store.db, { holder: 'cli', now: Date.now }).claim('lock-lab', { operation: 'apply', jobId: null }),
      ).toThrow(
        expect.objectContaining({ code: 'INSTALL_CONFLICT', message: expect.stringContaining('apply job job-in-api by a test backend') }),
      );
      await expect(running).rejects.toMatchObject({ code: expect.not.stringMatching('INSTALL_CONFLICT') });
      expect(lockRow()).toBeUndefined();
    } finally {
      api.close();
      await backend.close();
    }
  });
});
