import { describe, expect, it } from 'vitest';
import type { ApiClient, ProbeProgress } from '../../../electron/contract';
import { ApiError } from '../../../electron/contract';
import { createProbeJobsStore } from '../../../renderer/src/probes/probe-jobs';

type Handler = (payload: ProbeProgress) => void;

/** A client that behaves like the backend: probes.start emits every host's `queued` before it answers. */
function fakeClient(options: { failStart?: boolean } = {}) {
  const log: string[] = [];
  let handler: Handler | null = null;
  let unsubscribed = 0;
  const emit = (progress: Omit<ProbeProgress, 'total'> & { total?: number }) => handler?.({ total: 2, ...progress });
  const client = {
    async call(method: string, params: unknown) {
      log.push(`call ${method}`);
      if (method === 'probes.start') {
        if (options.failStart) throw new ApiError('HOST_NOT_FOUND', 'There is no host 9.', 'Pick another.');
        const { hostIds } = params as { hostIds: number[] };
        for (const hostId of hostIds)
          emit({ jobId: 'job-1', hostId, hostName: `h${hostId}`, state: 'queued', error: null, elapsedMs: 0, finished: 0 });
        // Another job's events arrive on the same unfiltered subscription.
        emit({ jobId: 'other', hostId: 5, hostName: 'h5', state: 'done', error: null, elapsedMs: 1, finished: 1 });
        return { jobId: 'job-1', total: hostIds.length };
      }
      if (method === 'probes.cancel') return { cancelled: 1 };
      throw new Error(`unexpected ${method}`);
    },
    async subscribe(event: string, _params: unknown, onPayload: Handler) {
      log.push(`subscribe ${event}`);
      handler = onPayload;
      return async () => {
        unsubscribed += 1;
        handler = null;
      };
    },
    close() {},
  } as unknown as ApiClient;
  return { client, log, emit, unsubscribedCount: () => unsubscribed };
}

describe('probe jobs store', () => {
  it('subscribes before starting, so the queued states emitted during the start are kept', async () => {
    const fake = fakeClient();
    const store = createProbeJobsStore(fake.client, () => 1000);
    const jobId = await store.start([
      { hostId: 1, hostName: 'local' },
      { hostId: 2, hostName: 'db-2' },
    ]);
    expect(fake.log.slice(0, 2)).toEqual(['subscribe probes.progress', 'call probes.start']);
    const record = store.get(jobId)!;
    expect(record.view.hosts.map((h) => [h.hostId, h.state])).toEqual([
      [1, 'queued'],
      [2, 'queued'],
    ]);
    expect(record.view.hosts.some((h) => h.hostId === 5)).toBe(false);
  });

  it('applies later events, notifies, and unsubscribes once every host finished', async () => {
    const fake = fakeClient();
    const store = createProbeJobsStore(fake.client, () => 1000);
    let notified = 0;
    store.subscribe(() => {
      notified += 1;
    });
    const jobId = await store.start([
      { hostId: 1, hostName: 'local' },
      { hostId: 2, hostName: 'db-2' },
    ]);
    fake.emit({ jobId, hostId: 1, hostName: 'local', state: 'done', error: null, elapsedMs: 10, finished: 1 });
    expect(fake.unsubscribedCount()).toBe(0);
    fake.emit({
      jobId,
      hostId: 2,
      hostName: 'db-2',
      state: 'failed',
      error: { code: 'AUTH_FAILED', message: 'm', remedy: 'r' },
      elapsedMs: 10,
      finished: 2,
    });
    expect(store.get(jobId)?.view.finished).toBe(2);
    expect(notified).toBeGreaterThanOrEqual(3);
    await Promise.resolve();
    expect(fake.unsubscribedCount()).toBe(1);
  });

  it('drops the subscription and rethrows when the start is refused', async () => {
    const fake = fakeClient({ failStart: true });
    const store = createProbeJobsStore(fake.client);
    await expect(store.start([{ hostId: 9, hostName: 'h9' }])).rejects.toMatchObject({ code: 'HOST_NOT_FOUND' });
    await Promise.resolve();
    expect(fake.unsubscribedCount()).toBe(1);
  });

  it('marks a cancel as requested and asks the backend', async () => {
    const fake = fakeClient();
    const store = createProbeJobsStore(fake.client);
    const jobId = await store.start([{ hostId: 1, hostName: 'local' }]);
    await store.cancel(jobId);
    expect(fake.log).toContain('call probes.cancel');
    expect(store.get(jobId)?.view.cancelRequested).toBe(true);
  });
});
