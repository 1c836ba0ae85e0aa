import { describe, expect, it } from 'vitest';
import { ApiError, type ProbeProgress } from '../../../electron/contract';
import { createProbeJobs } from '../../../electron/backend/hosts/probe-jobs';

function deferredProbe() {
  let active = 0;
  let peak = 0;
  const waiting: Array<{ hostId: number; resolve: () => void; reject: (e: unknown) => void }> = [];
  const probe = (hostId: number, options: { signal?: AbortSignal; onStep?: (s: 'connecting') => void }) =>
    new Promise<void>((resolve, reject) => {
      active++;
      peak = Math.max(peak, active);
      options.onStep?.('connecting');
      const done = () => active--;
      options.signal?.addEventListener('abort', () => {
        done();
        reject(new Error('aborted'));
      });
      waiting.push({ hostId, resolve: () => (done(), resolve()), reject: (e) => (done(), reject(e)) });
    });
  return { probe, waiting, peak: () => peak };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('bulk probe jobs', () => {
  it('keeps at most `concurrency` probes in flight and reports every state', async () => {
    const fake = deferredProbe();
    const events: ProbeProgress[] = [];
    const jobs = createProbeJobs({ probe: fake.probe, hostName: (id) => `h${id}`, onProgress: (p) => events.push(p) });
    const job = jobs.start([1, 2, 3, 4, 5], { concurrency: 2, timeoutMs: 1000 });
    await tick();
    expect(fake.waiting.length).toBe(2);
    while (fake.waiting.length) {
      const next = fake.waiting.shift()!;
      if (next.hostId === 3) next.reject(new ApiError('HOST_UNREACHABLE', 'no route', 'check cables'));
      else next.resolve();
      await tick();
    }
    const final = await job.done;
    expect(fake.peak()).toBe(2);
    expect(final.map((p) => [p.hostName, p.state])).toEqual([
      ['h1', 'done'],
      ['h2', 'done'],
      ['h3', 'failed'],
      ['h4', 'done'],
      ['h5', 'done'],
    ]);
    expect(final[2]!.error).toMatchObject({ code: 'HOST_UNREACHABLE', remedy: 'check cables' });
    expect(events.filter((e) => e.state === 'queued')).toHaveLength(5);
    expect(events.at(-1)).toMatchObject({ finished: 5, total: 5 });
    const status = jobs.status(job.jobId);
    expect(status).toMatchObject({ total: 5, finished: true });
    expect(status.hosts.map((h) => [h.hostName, h.state])).toEqual(final.map((p) => [p.hostName, p.state]));
    expect(() => jobs.status('no-such-job')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('cancels queued hosts at once and aborts the ones in flight', async () => {
    const fake = deferredProbe();
    const jobs = createProbeJobs({ probe: fake.probe, hostName: (id) => `h${id}`, onProgress: () => {} });
    const job = jobs.start([1, 2, 3], { concurrency: 1, timeoutMs: 1000 });
    await tick();
    expect(jobs.cancel(job.jobId)).toEqual({ cancelled: 1 });
    const final = await job.done;
    expect(final.map((p) => p.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(jobs.cancel(job.jobId)).toEqual({ cancelled: 0 });
  });

  it('refuses an unknown host before starting anything', () => {
    const jobs = createProbeJobs({
      probe: async () => {},
      hostName: (id) => {
        throw new ApiError('HOST_NOT_FOUND', `no host ${id}`, 'list hosts');
      },
      onProgress: () => {},
    });
    expect(() => jobs.start([9], { concurrency: 1, timeoutMs: 1 })).toThrow(expect.objectContaining({ code: 'HOST_NOT_FOUND' }));
  });
});
