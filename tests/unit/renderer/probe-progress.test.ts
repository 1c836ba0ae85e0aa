import { describe, expect, it } from 'vitest';
import type { ProbeProgress } from '../../../electron/contract';
import {
  applyProgress,
  countByState,
  elapsedOf,
  initialJob,
  isJobFinished,
  type ProbeJobView,
} from '../../../renderer/src/probes/probe-progress';

const hosts = [
  { hostId: 1, hostName: 'local' },
  { hostId: 2, hostName: 'db-2' },
];

function event(partial: Partial<ProbeProgress> & Pick<ProbeProgress, 'hostId' | 'state'>): ProbeProgress {
  return {
    jobId: 'job-1',
    hostName: partial.hostId === 1 ? 'local' : 'db-2',
    error: null,
    elapsedMs: 0,
    finished: 0,
    total: 2,
    ...partial,
  };
}

function fold(events: ProbeProgress[], start: ProbeJobView = initialJob('job-1', 2, hosts, 0)): ProbeJobView {
  return events.reduce((job, e, i) => applyProgress(job, e, 1000 + i), start);
}

describe('probe progress reducer', () => {
  it('starts with every host queued, in the order asked for', () => {
    const job = initialJob('job-1', 2, hosts, 0);
    expect(job.hosts.map((h) => [h.hostName, h.state])).toEqual([
      ['local', 'queued'],
      ['db-2', 'queued'],
    ]);
    expect(job.finished).toBe(0);
    expect(isJobFinished(job)).toBe(false);
  });

  it('follows each host through its states to the end of the job', () => {
    const job = fold([
      event({ hostId: 1, state: 'connecting', elapsedMs: 1 }),
      event({ hostId: 2, state: 'connecting', elapsedMs: 1 }),
      event({ hostId: 1, state: 'probing', elapsedMs: 20 }),
      event({ hostId: 1, state: 'storing', elapsedMs: 300 }),
      event({ hostId: 1, state: 'done', elapsedMs: 310, finished: 1 }),
      event({
        hostId: 2,
        state: 'failed',
        elapsedMs: 20_000,
        finished: 2,
        error: { code: 'HANDSHAKE_TIMEOUT', message: 'db-2 did not answer', remedy: 'Check the network' },
      }),
    ]);
    expect(job.hosts.map((h) => h.state)).toEqual(['done', 'failed']);
    expect(job.hosts[1]?.error?.code).toBe('HANDSHAKE_TIMEOUT');
    expect(job.finished).toBe(2);
    expect(isJobFinished(job)).toBe(true);
    expect(countByState(job)).toMatchObject({ done: 1, failed: 1, queued: 0 });
  });

  it('ignores events of other jobs', () => {
    const start = initialJob('job-1', 2, hosts, 0);
    expect(applyProgress(start, event({ jobId: 'job-2', hostId: 1, state: 'done', finished: 1 }), 5)).toBe(start);
  });

  it('keeps a finished host finished, and never counts backwards', () => {
    const job = fold([
      event({ hostId: 1, state: 'done', finished: 1 }),
      event({ hostId: 1, state: 'probing' }),
      event({ hostId: 2, state: 'connecting', finished: 0 }),
    ]);
    expect(job.hosts[0]?.state).toBe('done');
    expect(job.finished).toBe(1);
  });

  it('adds a host it did not know of (a job started elsewhere)', () => {
    const job = fold([event({ hostId: 9, hostName: 'gpu-9', state: 'queued', total: 3 })]);
    expect(job.hosts.map((h) => h.hostName)).toEqual(['local', 'db-2', 'gpu-9']);
    expect(job.total).toBe(3);
  });

  it('counts cancelled hosts as finished', () => {
    const job = fold([event({ hostId: 1, state: 'cancelled', finished: 1 }), event({ hostId: 2, state: 'cancelled', finished: 2 })]);
    expect(isJobFinished(job)).toBe(true);
    expect(countByState(job).cancelled).toBe(2);
  });
});

describe('elapsedOf', () => {
  it('keeps counting while a host runs and freezes once it is final', () => {
    const running = fold([event({ hostId: 1, state: 'probing', elapsedMs: 500 })]);
    const row = running.hosts[0]!;
    expect(elapsedOf(row, row.receivedAt + 1500)).toBe(2000);
    const done = applyProgress(running, event({ hostId: 1, state: 'done', elapsedMs: 800, finished: 1 }), 5000).hosts[0]!;
    expect(elapsedOf(done, 99_999)).toBe(800);
  });
});
