import { describe, expect, it } from 'vitest';
import { applyInstallProgress, countFinishedSteps, INSTALL_STEPS, InstallProgressSchema, queuedJobHost, type InstallJobStatus, type InstallProgress } from '../../../electron/contract';
import { STEPS } from '../../../electron/backend/install/install-steps';

function job(hosts: string[] = ['a']): InstallJobStatus {
  return { jobId: 'j1', seq: 0, install: 'lab', bundle: 'sutazai@0.1.0', state: 'running', error: null, startedAt: 1, finishedAt: null, hosts: hosts.map(queuedJobHost) };
}

const step = (seq: number, host: string, name: (typeof INSTALL_STEPS)[number], status: 'running' | 'done' | 'already-done' | 'failed' | 'skipped', extra: Partial<{ detail: string; output: string | null; at: number }> = {}): InstallProgress =>
  InstallProgressSchema.parse({ jobId: 'j1', seq, at: extra.at ?? seq * 10, kind: 'step', host, step: name, status, detail: extra.detail ?? `${name} ${status}`, output: extra.output ?? null });

describe('an apply job folded from its progress events', () => {
  it('names the same steps, in the same order, as the install engine', () => {
    expect([...INSTALL_STEPS]).toEqual([...STEPS]);
  });

  it('moves a host from queued to running on its first step, and keeps when each step ran and what it printed', () => {
    let status = job();
    status = applyInstallProgress(status, step(1, 'a', 'connect', 'running', { at: 100 }));
    expect(status.hosts[0]!.state).toBe('running');
    expect(status.hosts[0]!.steps[0]).toMatchObject({ step: 'connect', status: 'running', startedAt: 100, finishedAt: null, output: null });
    status = applyInstallProgress(status, step(2, 'a', 'connect', 'done', { at: 150, output: 'logged in as root' }));
    expect(status.hosts[0]!.steps[0]).toEqual({ step: 'connect', status: 'done', detail: 'connect done', output: 'logged in as root', startedAt: 100, finishedAt: 150 });
    // A step found done without running is stamped once, when it was reported.
    status = applyInstallProgress(status, step(3, 'a', 'check-space', 'already-done', { at: 160, output: 'nothing left to store' }));
    expect(status.hosts[0]!.steps[1]).toMatchObject({ status: 'already-done', startedAt: 160, finishedAt: 160 });
    expect(status.seq).toBe(3);
    expect(countFinishedSteps(status)).toEqual({ finished: 2, total: INSTALL_STEPS.length });
  });

  it('ignores an event it has already folded in, and one of another job, so a window can fold events over a fetched status', () => {
    let status = applyInstallProgress(job(), step(1, 'a', 'connect', 'running'));
    status = applyInstallProgress(status, step(2, 'a', 'connect', 'done'));
    const again = applyInstallProgress(status, step(1, 'a', 'connect', 'running'));
    expect(again).toBe(status);
    const foreign = applyInstallProgress(status, { ...step(3, 'a', 'upload', 'running'), jobId: 'other' });
    expect(foreign).toBe(status);
  });

  it('records upload bytes, a host’s outcome with its error, and the job’s end', () => {
    let status = job(['a', 'b']);
    status = applyInstallProgress(status, InstallProgressSchema.parse({ jobId: 'j1', seq: 1, at: 5, kind: 'upload', host: 'b', upload: { bytesOnHost: 512, totalBytes: 1024, resumedFrom: 256, bytesSent: 256 } }));
    expect(status.hosts[1]!.upload).toEqual({ bytesOnHost: 512, totalBytes: 1024, resumedFrom: 256, bytesSent: 256 });
    const error = { code: 'INSTALL_NO_SPACE' as const, message: 'b has 1 MiB free', remedy: 'Free space' };
    status = applyInstallProgress(status, InstallProgressSchema.parse({ jobId: 'j1', seq: 2, at: 6, kind: 'host', host: 'b', outcome: 'failed', error }));
    expect(status.hosts[1]).toMatchObject({ state: 'failed', error });
    expect(status.hosts[0]!.state).toBe('queued');
    status = applyInstallProgress(status, InstallProgressSchema.parse({ jobId: 'j1', seq: 3, at: 7, kind: 'finished', state: 'failed', error: null }));
    expect(status).toMatchObject({ state: 'failed', finishedAt: 7, seq: 3 });
  });

  it('adds a host it did not know yet instead of dropping its events', () => {
    const status = applyInstallProgress(job([]), step(1, 'late', 'connect', 'running'));
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([['late', 'running']]);
    expect(status.hosts[0]!.steps).toHaveLength(INSTALL_STEPS.length);
  });
});
