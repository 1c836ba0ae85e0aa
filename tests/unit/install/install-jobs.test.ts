import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, InstallDefinitionSchema, type InstallProgress } from '../../../electron/contract';
import type { ApplyOptions } from '../../../electron/backend/install/engine/install-engine';
import { createInstallJobs, UPLOAD_PROGRESS_INTERVAL_MS } from '../../../electron/backend/install/jobs/install-jobs';
import type { InstallFile } from '../../../electron/backend/install/definition/install-file';
import type { ApplyResult } from '../../../electron/backend/install/engine/install-steps';
import type { HostRow } from '../../../electron/backend/store/hosts-repo';
import { createInstallJobsRepo } from '../../../electron/backend/store/install-jobs-repo';
import { openMemoryStore } from '../../support/memory-store';

let db: Database.Database;
beforeEach(() => {
  db = openMemoryStore();
});
afterEach(() => db.close());

const definition = InstallDefinitionSchema.parse({
  name: 'lab',
  bundle: 'sutazai@0.1.0',
  hosts: [
    { name: 'core-1', role: 'both' },
    { name: 'agent-1', role: 'agent' },
  ],
});

/** An engine whose apply the test drives by hand: it emits what the test says, then ends as the test says. */
function scriptedEngine() {
  let options: ApplyOptions | null = null;
  let file: InstallFile | null = null;
  let settle!: { resolve: (r: ApplyResult) => void; reject: (e: unknown) => void };
  const engine = {
    apply(installFile: string | InstallFile, applyOptions: ApplyOptions = {}) {
      file = installFile as InstallFile;
      options = applyOptions;
      return new Promise<ApplyResult>((resolve, reject) => (settle = { resolve, reject }));
    },
  };
  return {
    engine,
    get file() {
      return file!;
    },
    get signal() {
      return options!.signal!;
    },
    emit: (event: Parameters<NonNullable<ApplyOptions['onEvent']>>[0]) => options!.onEvent!(event),
    finish: () => settle.resolve({ install: 'lab', bundle: { name: 'sutazai', version: '0.1.0' }, unchanged: false, hosts: [] }),
    fail: (error: unknown) => settle.reject(error),
  };
}

function jobsWith(script: ReturnType<typeof scriptedEngine>, clock = { t: 1000 }, processAlive: (pid: number) => boolean = () => false) {
  const events: InstallProgress[] = [];
  const outputs = new Map<string, string>([['core-1/connect', 'logged in as root; system-wide under /opt/sutazai']]);
  const jobs = createInstallJobs({
    engine: script.engine,
    records: {
      installId: (name) => (name === 'lab' ? 7 : null),
      stepOutput: (_installId, hostId, step) => outputs.get(`${hostId === 1 ? 'core-1' : 'agent-1'}/${step}`) ?? null,
    },
    hosts: { findByName: (name) => ({ id: name === 'core-1' ? 1 : 2, name }) as HostRow },
    store: createInstallJobsRepo(db),
    onProgress: (p) => events.push(p),
    now: () => clock.t,
    processAlive,
  });
  return { jobs, events, clock };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('install jobs: the engine’s apply behind installs.start and installs.status', () => {
  it('answers with a job id once the apply reached a host, and keeps every host’s steps with their output', async () => {
    const script = scriptedEngine();
    const { jobs, events } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    expect(script.file).toMatchObject({
      name: 'lab',
      bundle: { name: 'sutazai', version: '0.1.0' },
      hosts: [
        { name: 'core-1', role: 'both' },
        { name: 'agent-1', role: 'agent' },
      ],
    });
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: 'root@10.0.0.1:22' });
    const { jobId } = await started;
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'done', detail: 'logged in' });

    const status = jobs.status(jobId);
    expect(status).toMatchObject({ jobId, install: 'lab', bundle: 'sutazai@0.1.0', state: 'running', seq: 2 });
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([
      ['core-1', 'running'],
      ['agent-1', 'queued'],
    ]);
    expect(status.hosts[0]!.steps[0]).toMatchObject({
      status: 'done',
      detail: 'logged in',
      output: 'logged in as root; system-wide under /opt/sutazai',
    });
    expect(events.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'step'],
      [2, 'step'],
    ]);

    script.emit({ kind: 'host', host: 'core-1', outcome: 'installed', error: null });
    script.emit({ kind: 'host', host: 'agent-1', outcome: 'unchanged', error: null });
    script.finish();
    await tick();
    expect(jobs.status(jobId)).toMatchObject({ state: 'succeeded', finishedAt: 1000, error: null });
    expect(events.at(-1)).toMatchObject({ kind: 'finished', state: 'succeeded', seq: 5 });
  });

  it('refuses to start, keeping no job, when the apply stops before any host (the engine’s own error)', async () => {
    const script = scriptedEngine();
    const { jobs, events } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.fail(new ApiError('SECRETS_LOCKED', 'Applying an install needs the sealed secrets.', 'Give the vault passphrase.'));
    await expect(started).rejects.toMatchObject({ code: 'SECRETS_LOCKED' });
    expect(events).toEqual([]);
    // The install can be started again at once: nothing of the refused start is left running.
    const again = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: '' });
    await expect(again).resolves.toMatchObject({ jobId: expect.any(String) });
  });

  it('refuses a second start of an install that is running, and ends a job whose apply broke after it began as failed', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: '' });
    const { jobId } = await started;
    await expect(jobs.start(definition)).rejects.toMatchObject({ code: 'INSTALL_CONFLICT' });
    script.fail(new Error('database is locked'));
    await tick();
    expect(jobs.status(jobId)).toMatchObject({
      state: 'failed',
      error: { code: 'INSTALL_STEP_FAILED', message: 'The install stopped: database is locked' },
    });
  });

  it('ends as failed when a host failed, though the apply itself returned', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'agent-1', step: 'connect', status: 'failed', detail: 'refused' });
    const { jobId } = await started;
    script.emit({
      kind: 'host',
      host: 'agent-1',
      outcome: 'failed',
      error: { code: 'CONNECTION_REFUSED', message: 'refused', remedy: 'Start sshd.' },
    });
    script.finish();
    await tick();
    expect(jobs.status(jobId).state).toBe('failed');
  });

  it('sends upload progress at most every few hundred milliseconds per host, and always the last bytes', async () => {
    const script = scriptedEngine();
    const { jobs, events, clock } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'upload', status: 'running', detail: '' });
    await started;
    const upload = (bytesOnHost: number) =>
      script.emit({ kind: 'upload', host: 'core-1', bytesOnHost, totalBytes: 1000, resumedFrom: 0, bytesSent: bytesOnHost });
    upload(100);
    upload(200); // same instant: dropped
    clock.t += UPLOAD_PROGRESS_INTERVAL_MS;
    upload(300);
    upload(1000); // the end is never dropped
    expect(events.filter((e) => e.kind === 'upload').map((e) => (e.kind === 'upload' ? e.upload.bytesOnHost : 0))).toEqual([
      100, 300, 1000,
    ]);
  });

  it('says a job it does not know is not found, with what to do', () => {
    const { jobs } = jobsWith(scriptedEngine());
    expect(() => jobs.status('nope')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND', remedy: expect.stringContaining('apply again') }),
    );
  });
});

describe('install jobs kept in the store', () => {
  it('answers installs.status from the store after the backend restarts: the finished job with every step and its output', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'done', detail: 'logged in' });
    const { jobId } = await started;
    script.emit({ kind: 'upload', host: 'core-1', bytesOnHost: 1000, totalBytes: 1000, resumedFrom: 400, bytesSent: 600 });
    script.emit({ kind: 'host', host: 'core-1', outcome: 'installed', error: null });
    script.emit({ kind: 'host', host: 'agent-1', outcome: 'unchanged', error: null });
    script.finish();
    await tick();
    const before = jobs.status(jobId);

    // A new backend over the same database: nothing of the old one in memory.
    const { jobs: restarted } = jobsWith(scriptedEngine());
    expect(restarted.status(jobId)).toEqual(before);
    expect(restarted.status(jobId)).toMatchObject({
      kind: 'apply',
      state: 'succeeded',
      hosts: [
        { host: 'core-1', upload: { resumedFrom: 400 } },
        { host: 'agent-1', state: 'unchanged' },
      ],
    });
    expect(restarted.status(jobId).hosts[0]!.steps[0]).toMatchObject({
      step: 'connect',
      status: 'done',
      output: 'logged in as root; system-wide under /opt/sutazai',
    });
    expect(restarted.recent({ install: 'lab', limit: 5 })).toEqual([
      expect.objectContaining({
        jobId,
        kind: 'apply',
        state: 'succeeded',
        hosts: [
          { host: 'core-1', state: 'installed' },
          { host: 'agent-1', state: 'unchanged' },
        ],
      }),
    ]);
  });

  it('shows a job whose backend died while it ran as interrupted, with how to resume; one whose backend still runs is left alone', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'upload', status: 'running', detail: 'sending' });
    const { jobId } = await started;
    // The same rows as a backend that was killed would leave, written by another process.
    db.prepare('UPDATE install_jobs SET owner_pid = 999999999 WHERE id = ?').run(jobId);

    const { jobs: alive } = jobsWith(scriptedEngine(), { t: 2000 }, () => true);
    expect(alive.status(jobId).state).toBe('running');

    const { jobs: restarted } = jobsWith(scriptedEngine(), { t: 3000 }, () => false);
    const status = restarted.status(jobId);
    expect(status).toMatchObject({
      state: 'interrupted',
      finishedAt: 3000,
      error: { code: 'INSTALL_INTERRUPTED', remedy: expect.stringContaining('resumes') },
    });
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([
      ['core-1', 'interrupted'],
      ['agent-1', 'interrupted'],
    ]);
    expect(status.hosts[0]!.steps.find((s) => s.step === 'upload')).toMatchObject({ status: 'failed', detail: 'interrupted: sending' });
    // A second start-up finds nothing more to do.
    const { jobs: again } = jobsWith(scriptedEngine(), { t: 4000 });
    expect(again.status(jobId)).toEqual(status);
  });

  it('records its running jobs as interrupted when the backend closes, and starts none after', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: '' });
    const { jobId } = await started;
    jobs.close();
    expect(script.signal.aborted).toBe(true);
    await expect(jobs.start(definition)).rejects.toMatchObject({ code: 'DISCONNECTED' });
    const { jobs: restarted } = jobsWith(scriptedEngine());
    expect(restarted.status(jobId)).toMatchObject({ state: 'interrupted', error: { code: 'INSTALL_INTERRUPTED' } });
  });

  it('cancels a running job: its signal is aborted, hosts cut off are cancelled, and the job says how to resume', async () => {
    const script = scriptedEngine();
    const { jobs, events } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'upload', status: 'running', detail: '' });
    const { jobId } = await started;
    script.emit({ kind: 'host', host: 'agent-1', outcome: 'unchanged', error: null });
    expect(jobs.cancel(jobId)).toEqual({ jobId, cancelled: true, state: 'running' });
    expect(script.signal.aborted).toBe(true);
    // The engine sees the cut link as a failed upload.
    script.emit({ kind: 'step', host: 'core-1', step: 'upload', status: 'failed', detail: 'the connection was closed' });
    script.emit({
      kind: 'host',
      host: 'core-1',
      outcome: 'failed',
      error: { code: 'INSTALL_UPLOAD_FAILED', message: 'closed', remedy: 'Apply again.' },
    });
    script.finish();
    await tick();
    const status = jobs.status(jobId);
    expect(status).toMatchObject({
      state: 'cancelled',
      error: { code: 'INSTALL_CANCELLED', remedy: expect.stringContaining('resumes from the bytes already on the host') },
    });
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([
      ['core-1', 'cancelled'],
      ['agent-1', 'unchanged'],
    ]);
    expect(events.at(-1)).toMatchObject({ kind: 'finished', state: 'cancelled' });
    // Cancelling what already ended changes nothing; the install can run again at once.
    expect(jobs.cancel(jobId)).toEqual({ jobId, cancelled: false, state: 'cancelled' });
    const again = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: '' });
    await expect(again).resolves.toMatchObject({ jobId: expect.any(String) });
  });

  it('runs a rollback as a job: its steps in the rollback’s list, the way back as notes, each host’s outcome from the result', async () => {
    const { jobs, events } = jobsWith(scriptedEngine());
    let emit!: (event: Parameters<NonNullable<ApplyOptions['onEvent']>>[0]) => void;
    let finish!: () => void;
    const started = jobs.run({
      kind: 'rollback',
      install: 'lab',
      bundle: '0.1.0',
      hosts: ['core-1', 'agent-1'],
      execute: ({ onEvent }) =>
        new Promise((resolve) => {
          emit = onEvent;
          finish = () =>
            resolve({
              hosts: [
                {
                  host: 'core-1',
                  outcome: 'failed',
                  error: {
                    code: 'INSTALL_ROLLED_BACK',
                    message: '0.1.0 did not come up on core-1, which was returned to 0.2.0',
                    remedy: 'Fix it.',
                  },
                },
                {
                  host: 'agent-1',
                  outcome: 'stopped',
                  error: { code: 'INSTALL_ROLLOUT_STOPPED', message: 'left as it is', remedy: 'Fix core-1.' },
                },
              ],
            });
        }),
    });
    await tick();
    emit({
      kind: 'activate',
      host: 'core-1',
      purpose: 'rollback',
      version: '0.1.0',
      step: 'read',
      status: 'running',
      detail: 'reads 0.1.0',
    });
    const { jobId } = await started;
    emit({
      kind: 'activate',
      host: 'core-1',
      purpose: 'rollback',
      version: '0.1.0',
      step: 'health',
      status: 'failed',
      detail: 'core exited',
    });
    emit({
      kind: 'activate',
      host: 'core-1',
      purpose: 'rollback',
      version: '0.2.0',
      step: 'start',
      status: 'running',
      detail: 'starting 0.2.0',
    });
    emit({
      kind: 'activate',
      host: 'core-1',
      purpose: 'rollback',
      version: '0.2.0',
      step: 'start',
      status: 'done',
      detail: 'started 0.2.0',
    });
    finish();
    await tick();
    const status = jobs.status(jobId);
    expect(status).toMatchObject({ kind: 'rollback', bundle: '0.1.0', state: 'failed' });
    expect(status.hosts[0]!.steps.map((s) => [s.step, s.status])).toEqual([
      ['read', 'running'],
      ['service', 'pending'],
      ['start', 'pending'],
      ['health', 'failed'],
      ['switch', 'pending'],
      ['record', 'pending'],
    ]);
    expect(status.hosts[0]!.notes).toEqual(['back to 0.2.0: start done: started 0.2.0']);
    expect(status.hosts.map((h) => [h.host, h.state, h.error?.code])).toEqual([
      ['core-1', 'failed', 'INSTALL_ROLLED_BACK'],
      ['agent-1', 'stopped', 'INSTALL_ROLLOUT_STOPPED'],
    ]);
    expect(events.filter((e) => e.kind === 'step').every((e) => e.kind === 'step' && e.output === null)).toBe(true);
  });

  it('keeps a rollback or uninstall that needed no host change as a finished job, and refuses to cancel an uninstall halfway', async () => {
    const { jobs } = jobsWith(scriptedEngine());
    const unchanged = await jobs.run({
      kind: 'rollback',
      install: 'lab',
      bundle: '0.1.0',
      hosts: ['core-1'],
      execute: () => Promise.resolve({ hosts: [{ host: 'core-1', outcome: 'unchanged', error: null }] }),
    });
    await tick();
    expect(jobs.status(unchanged.jobId)).toMatchObject({ state: 'succeeded', hosts: [{ host: 'core-1', state: 'unchanged' }] });

    let finish!: () => void;
    let emit!: (event: Parameters<NonNullable<ApplyOptions['onEvent']>>[0]) => void;
    const started = jobs.run({
      kind: 'uninstall',
      install: 'lab',
      bundle: '',
      hosts: ['core-1'],
      execute: ({ onEvent }) =>
        new Promise((resolve) => {
          emit = onEvent;
          finish = () => resolve({ hosts: [{ host: 'core-1', outcome: 'removed', error: null }] });
        }),
    });
    await tick();
    emit({ kind: 'uninstall', host: 'core-1', step: 'connect', status: 'running', detail: 'root@10.0.0.1:22' });
    const { jobId } = await started;
    expect(() => jobs.cancel(jobId)).toThrow(expect.objectContaining({ code: 'INSTALL_CANCEL_REFUSED' }));
    await expect(jobs.start(definition)).rejects.toMatchObject({
      code: 'INSTALL_CONFLICT',
      message: expect.stringContaining('uninstall job running'),
    });
    finish();
    await tick();
    expect(jobs.status(jobId)).toMatchObject({ kind: 'uninstall', state: 'succeeded', hosts: [{ host: 'core-1', state: 'removed' }] });
  });
});
