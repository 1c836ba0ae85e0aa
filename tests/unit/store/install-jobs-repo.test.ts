import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queuedJobHost, type InstallJobStatus } from '../../../electron/contract';
import { createInstallJobsRepo } from '../../../electron/backend/store/install-jobs-repo';
import { STEP_OUTPUT_LIMIT } from '../../../electron/backend/store/install-steps-repo';
import { openMemoryStore } from '../../support/memory-store';

let db: Database.Database;
beforeEach(() => {
  db = openMemoryStore();
});
afterEach(() => db.close());

function job(jobId: string, startedAt: number, state: InstallJobStatus['state'] = 'succeeded', install = 'lab'): InstallJobStatus {
  return {
    jobId,
    kind: 'apply',
    seq: 0,
    install,
    bundle: 'sutazai@0.1.0',
    state,
    error: null,
    startedAt,
    finishedAt: state === 'running' ? null : startedAt + 1,
    hosts: [queuedJobHost('core-1')],
  };
}

describe('install jobs in the store (migration 7)', () => {
  it('keeps a job’s hosts and steps as they change, a step’s output cut to its end', () => {
    const repo = createInstallJobsRepo(db);
    const status = job('j1', 10, 'running');
    repo.create(status, 4242);
    const long = `${'x'.repeat(STEP_OUTPUT_LIMIT)}the reason at the end`;
    const changed: InstallJobStatus = {
      ...status,
      seq: 1,
      hosts: [
        {
          ...status.hosts[0]!,
          state: 'running',
          steps: status.hosts[0]!.steps.map((s) =>
            s.step === 'upload' ? { ...s, status: 'failed', detail: 'cut', output: long, startedAt: 11, finishedAt: 12 } : s,
          ),
        },
      ],
    };
    repo.recordChange(changed, { host: 'core-1', step: 'upload' });
    const read = repo.get('j1')!;
    expect(read).toMatchObject({ seq: 1, state: 'running', hosts: [{ host: 'core-1', state: 'running' }] });
    const upload = read.hosts[0]!.steps.find((s) => s.step === 'upload')!;
    expect(upload).toMatchObject({ status: 'failed', detail: 'cut', startedAt: 11, finishedAt: 12 });
    expect(upload.output!.length).toBe(STEP_OUTPUT_LIMIT);
    expect(upload.output!.endsWith('the reason at the end')).toBe(true);
    // The steps keep their order.
    expect(read.hosts[0]!.steps.map((s) => s.step)).toEqual(status.hosts[0]!.steps.map((s) => s.step));
    expect(repo.running()).toEqual([{ status: read, ownerPid: 4242 }]);
  });

  it('prunes the oldest finished jobs beyond what it keeps, never a running one, and lists the newest first', () => {
    const repo = createInstallJobsRepo(db);
    repo.create(job('old-running', 1, 'running'), 1, 3);
    for (let i = 2; i <= 6; i += 1) repo.create(job(`j${i}`, i, 'succeeded', i % 2 === 0 ? 'lab' : 'other'), 1, 3);
    const ids = (db.prepare('SELECT id FROM install_jobs ORDER BY started_at').all() as Array<{ id: string }>).map((r) => r.id);
    expect(ids).toEqual(['old-running', 'j4', 'j5', 'j6']);
    // Hosts and steps of a pruned job go with it.
    expect(db.prepare("SELECT COUNT(*) AS n FROM install_job_steps WHERE job_id = 'j2'").get()).toEqual({ n: 0 });
    expect(repo.recent({ limit: 10 }).map((j) => j.jobId)).toEqual(['j6', 'j5', 'j4', 'old-running']);
    expect(repo.recent({ install: 'lab', limit: 10 }).map((j) => j.jobId)).toEqual(['j6', 'j4', 'old-running']);
    expect(repo.recent({ install: 'lab', limit: 1 }).map((j) => j.jobId)).toEqual(['j6']);
  });
});
