import { describe, expect, it } from 'vitest';
import { ApiError, InstallDefinitionSchema, type InstallProgress } from '../../../electron/contract';
import type { ApplyOptions } from '../../../electron/backend/install/install-engine';
import { createInstallJobs, UPLOAD_PROGRESS_INTERVAL_MS } from '../../../electron/backend/install/install-jobs';
import type { InstallFile } from '../../../electron/backend/install/install-file';
import type { ApplyResult } from '../../../electron/backend/install/install-steps';
import type { HostRow } from '../../../electron/backend/store/hosts-repo';

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
    emit: (event: Parameters<NonNullable<ApplyOptions['onEvent']>>[0]) => options!.onEvent!(event),
    finish: () => settle.resolve({ install: 'lab', bundle: { name: 'sutazai', version: '0.1.0' }, unchanged: false, hosts: [] }),
    fail: (error: unknown) => settle.reject(error),
  };
}

function jobsWith(script: ReturnType<typeof scriptedEngine>, clock = { t: 1000 }) {
  const events: InstallProgress[] = [];
  const outputs = new Map<string, string>([['core-1/connect', 'logged in as root; system-wide under /opt/sutazai']]);
  const jobs = createInstallJobs({
    engine: script.engine,
    records: { installId: (name) => (name === 'lab' ? 7 : null), stepOutput: (_installId, hostId, step) => outputs.get(`${hostId === 1 ? 'core-1' : 'agent-1'}/${step}`) ?? null },
    hosts: { findByName: (name) => ({ id: name === 'core-1' ? 1 : 2, name }) as HostRow },
    onProgress: (p) => events.push(p),
    now: () => clock.t,
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
    expect(script.file).toMatchObject({ name: 'lab', bundle: { name: 'sutazai', version: '0.1.0' }, hosts: [{ name: 'core-1', role: 'both' }, { name: 'agent-1', role: 'agent' }] });
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'running', detail: 'root@10.0.0.1:22' });
    const { jobId } = await started;
    script.emit({ kind: 'step', host: 'core-1', step: 'connect', status: 'done', detail: 'logged in' });

    const status = jobs.status(jobId);
    expect(status).toMatchObject({ jobId, install: 'lab', bundle: 'sutazai@0.1.0', state: 'running', seq: 2 });
    expect(status.hosts.map((h) => [h.host, h.state])).toEqual([
      ['core-1', 'running'],
      ['agent-1', 'queued'],
    ]);
    expect(status.hosts[0]!.steps[0]).toMatchObject({ status: 'done', detail: 'logged in', output: 'logged in as root; system-wide under /opt/sutazai' });
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
    expect(jobs.status(jobId)).toMatchObject({ state: 'failed', error: { code: 'INSTALL_STEP_FAILED', message: 'The install stopped: database is locked' } });
  });

  it('ends as failed when a host failed, though the apply itself returned', async () => {
    const script = scriptedEngine();
    const { jobs } = jobsWith(script);
    const started = jobs.start(definition);
    await tick();
    script.emit({ kind: 'step', host: 'agent-1', step: 'connect', status: 'failed', detail: 'refused' });
    const { jobId } = await started;
    script.emit({ kind: 'host', host: 'agent-1', outcome: 'failed', error: { code: 'CONNECTION_REFUSED', message: 'refused', remedy: 'Start sshd.' } });
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
    const upload = (bytesOnHost: number) => script.emit({ kind: 'upload', host: 'core-1', bytesOnHost, totalBytes: 1000, resumedFrom: 0, bytesSent: bytesOnHost });
    upload(100);
    upload(200); // same instant: dropped
    clock.t += UPLOAD_PROGRESS_INTERVAL_MS;
    upload(300);
    upload(1000); // the end is never dropped
    expect(events.filter((e) => e.kind === 'upload').map((e) => (e.kind === 'upload' ? e.upload.bytesOnHost : 0))).toEqual([100, 300, 1000]);
  });

  it('says a job it does not know is not found, with what to do', () => {
    const { jobs } = jobsWith(scriptedEngine());
    expect(() => jobs.status('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
