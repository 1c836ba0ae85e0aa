import { describe, expect, it } from 'vitest';
import {
  applyInstallProgress,
  countDoneSteps,
  failedStepOf,
  INSTALL_STEPS,
  InstallProgressSchema,
  JOB_NOTES_KEPT,
  JOB_STEP_NAMES,
  JOB_STEPS,
  queuedJobHost,
  ROLLBACK_STEPS,
  UNINSTALL_STEPS,
  type InstallJobKind,
  type InstallJobStatus,
  type JobStepName,
  type InstallProgress,
} from '../../../electron/contract';
import { ACTIVATE_STEPS, STEPS, UNINSTALL_STEPS as ENGINE_UNINSTALL_STEPS } from '../../../electron/backend/install/engine/install-steps';

function job(hosts: string[] = ['a'], kind: InstallJobKind = 'apply'): InstallJobStatus {
  return {
    jobId: 'j1',
    kind,
    seq: 0,
    install: 'lab',
    bundle: 'sutazai@0.1.0',
    state: 'running',
    error: null,
    startedAt: 1,
    finishedAt: null,
    hosts: hosts.map((h) => queuedJobHost(h, kind)),
  };
}

const step = (
  seq: number,
  host: string,
  name: JobStepName,
  status: 'running' | 'done' | 'already-done' | 'failed' | 'skipped',
  extra: Partial<{ detail: string; output: string | null; at: number }> = {},
): InstallProgress =>
  InstallProgressSchema.parse({
    jobId: 'j1',
    seq,
    at: extra.at ?? seq * 10,
    kind: 'step',
    host,
    step: name,
    status,
    detail: extra.detail ?? `${name} ${status}`,
    output: extra.output ?? null,
  });

describe('an apply job folded from its progress events', () => {
  it('names the same steps, in the same order, as the install engine, for every kind of job', () => {
    expect([...INSTALL_STEPS]).toEqual([...STEPS]);
    expect([...ROLLBACK_STEPS]).toEqual([...ACTIVATE_STEPS]);
    expect([...UNINSTALL_STEPS]).toEqual([...ENGINE_UNINSTALL_STEPS]);
    expect(new Set(JOB_STEP_NAMES)).toEqual(new Set([...INSTALL_STEPS, ...ROLLBACK_STEPS, ...UNINSTALL_STEPS]));
    expect(JOB_STEP_NAMES).toHaveLength(new Set(JOB_STEP_NAMES).size);
    expect(queuedJobHost('a', 'rollback').steps.map((s) => s.step)).toEqual([...JOB_STEPS.rollback]);
    expect(queuedJobHost('a', 'uninstall').steps.map((s) => s.step)).toEqual(['connect', 'stop', 'remove', 'forget']);
  });

  it('moves a host from queued to running on its first step, and keeps when each step ran and what it printed', () => {
    let status = job();
    status = applyInstallProgress(status, step(1, 'a', 'connect', 'running', { at: 100 }));
    expect(status.hosts[0]!.state).toBe('running');
    expect(status.hosts[0]!.steps[0]).toMatchObject({ step: 'connect', status: 'running', startedAt: 100, finishedAt: null, output: null });
    status = applyInstallProgress(status, step(2, 'a', 'connect', 'done', { at: 150, output: 'logged in as root' }));
    expect(status.hosts[0]!.steps[0]).toEqual({
      step: 'connect',
      status: 'done',
      detail: 'connect done',
      output: 'logged in as root',
      startedAt: 100,
      finishedAt: 150,
    });
    // A step found done without running is stamped once, when it was reported.
    status = applyInstallProgress(status, step(3, 'a', 'check-space', 'already-done', { at: 160, output: 'nothing left to store' }));
    expect(status.hosts[0]!.steps[1]).toMatchObject({ status: 'already-done', startedAt: 160, finishedAt: 160 });
    expect(status.seq).toBe(3);
    expect(countDoneSteps(status)).toEqual({ done: 2, total: INSTALL_STEPS.length });
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
    status = applyInstallProgress(
      status,
      InstallProgressSchema.parse({
        jobId: 'j1',
        seq: 1,
        at: 5,
        kind: 'upload',
        host: 'b',
        upload: { bytesOnHost: 512, totalBytes: 1024, resumedFrom: 256, bytesSent: 256 },
      }),
    );
    expect(status.hosts[1]!.upload).toEqual({ bytesOnHost: 512, totalBytes: 1024, resumedFrom: 256, bytesSent: 256 });
    const error = { code: 'INSTALL_NO_SPACE' as const, message: 'b has 1 MiB free', remedy: 'Free space' };
    status = applyInstallProgress(
      status,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 2, at: 6, kind: 'host', host: 'b', outcome: 'failed', error }),
    );
    expect(status.hosts[1]).toMatchObject({ state: 'failed', error });
    expect(status.hosts[0]!.state).toBe('queued');
    status = applyInstallProgress(
      status,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 3, at: 7, kind: 'finished', state: 'failed', error: null }),
    );
    expect(status).toMatchObject({ state: 'failed', finishedAt: 7, seq: 3 });
  });

  it('adds a host it did not know yet instead of dropping its events', () => {
    const status = applyInstallProgress(job([]), step(1, 'late', 'connect', 'running'));
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([['late', 'running']]);
    expect(status.hosts[0]!.steps).toHaveLength(INSTALL_STEPS.length);
  });

  it('ends a cancelled or interrupted job with its unsettled hosts in the same state and no step left running', () => {
    let status = job(['a', 'b', 'c']);
    status = applyInstallProgress(status, step(1, 'a', 'connect', 'done'));
    status = applyInstallProgress(
      status,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 2, at: 20, kind: 'host', host: 'a', outcome: 'installed', error: null }),
    );
    status = applyInstallProgress(status, step(3, 'b', 'upload', 'running'));
    const error = { code: 'INSTALL_CANCELLED' as const, message: 'cancelled', remedy: 'Install again: it resumes.' };
    status = applyInstallProgress(
      status,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 4, at: 40, kind: 'finished', state: 'cancelled', error }),
    );
    expect(status).toMatchObject({ state: 'cancelled', error, finishedAt: 40 });
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([
      ['a', 'installed'],
      ['b', 'cancelled'],
      ['c', 'cancelled'],
    ]);
    expect(status.hosts[1]!.steps.find((s) => s.step === 'upload')).toMatchObject({
      status: 'failed',
      detail: 'cancelled: upload running',
      finishedAt: 40,
    });
    expect(status.hosts.flatMap((h) => h.steps).some((s) => s.status === 'running')).toBe(false);
  });

  it('counts a failed step and the steps not reached as not done, so a host or job that stopped never reads as complete', () => {
    let status = job(['a', 'b']);
    let seq = 0;
    for (const name of INSTALL_STEPS) status = applyInstallProgress(status, step((seq += 1), 'a', name, 'done'));
    status = applyInstallProgress(status, step((seq += 1), 'b', 'connect', 'done'));
    status = applyInstallProgress(status, step((seq += 1), 'b', 'check-space', 'already-done'));
    status = applyInstallProgress(status, step((seq += 1), 'b', 'upload', 'failed'));
    for (const name of INSTALL_STEPS.slice(INSTALL_STEPS.indexOf('upload') + 1))
      status = applyInstallProgress(status, step((seq += 1), 'b', name, 'skipped'));
    const [a, b] = status.hosts;
    expect(countDoneSteps(a!)).toEqual({ done: INSTALL_STEPS.length, total: INSTALL_STEPS.length });
    expect(failedStepOf(a!)).toBeNull();
    expect(countDoneSteps(b!)).toEqual({ done: 2, total: INSTALL_STEPS.length });
    expect(failedStepOf(b!)).toBe('upload');
    expect(b!.steps.every((s) => s.status !== 'pending' && s.status !== 'running')).toBe(true);
    expect(countDoneSteps(status)).toEqual({ done: INSTALL_STEPS.length + 2, total: 2 * INSTALL_STEPS.length });

    // Cancelled in the middle of a step: that step failed, the rest were never reached.
    let cancelled = applyInstallProgress(job(['c']), step(1, 'c', 'connect', 'done'));
    cancelled = applyInstallProgress(cancelled, step(2, 'c', 'check-space', 'running'));
    cancelled = applyInstallProgress(
      cancelled,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 3, at: 30, kind: 'finished', state: 'cancelled', error: null }),
    );
    expect(countDoneSteps(cancelled)).toEqual({ done: 1, total: INSTALL_STEPS.length });
    expect(failedStepOf(cancelled.hosts[0]!)).toBe('check-space');
  });

  it('keeps only the newest notes of a host, each cut to its limit', () => {
    let status = job(['a']);
    for (let seq = 1; seq <= JOB_NOTES_KEPT + 5; seq += 1) {
      status = applyInstallProgress(
        status,
        InstallProgressSchema.parse({
          jobId: 'j1',
          seq,
          at: seq,
          kind: 'note',
          host: 'a',
          text: `note ${seq} ${'x'.repeat(seq === JOB_NOTES_KEPT + 5 ? 2000 : 0)}`,
        }),
      );
    }
    expect(status.hosts[0]!.notes).toHaveLength(JOB_NOTES_KEPT);
    expect(status.hosts[0]!.notes[0]).toBe('note 6 ');
    expect(status.hosts[0]!.notes.at(-1)!.length).toBe(500);
  });

  it('folds a rollback’s steps into the rollback’s own list, and an uninstall’s into its own', () => {
    let rollback = job(['a'], 'rollback');
    rollback = applyInstallProgress(rollback, step(1, 'a', 'read', 'done'));
    expect(rollback.hosts[0]!.steps.map((s) => [s.step, s.status])[0]).toEqual(['read', 'done']);
    expect(rollback.hosts[0]!.steps).toHaveLength(ROLLBACK_STEPS.length);
    let uninstall = job(['a'], 'uninstall');
    uninstall = applyInstallProgress(
      uninstall,
      InstallProgressSchema.parse({
        jobId: 'j1',
        seq: 1,
        at: 1,
        kind: 'step',
        host: 'a',
        step: 'stop',
        status: 'done',
        detail: 'stopped',
        output: null,
      }),
    );
    uninstall = applyInstallProgress(
      uninstall,
      InstallProgressSchema.parse({ jobId: 'j1', seq: 2, at: 2, kind: 'host', host: 'a', outcome: 'removed', error: null }),
    );
    expect(uninstall.hosts[0]).toMatchObject({ state: 'removed' });
    expect(uninstall.hosts[0]!.steps.map((s) => s.status)).toEqual(['pending', 'done', 'pending', 'pending']);
  });
});
