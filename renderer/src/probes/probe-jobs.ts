import type { ApiClient, ProbeProgress } from '../../../electron/contract';
import { applyProgress, initialJob, isJobFinished, type ProbeJobView } from './probe-progress';

/** How many hosts a bulk probe works on at once, and how long each may take. */
export const PROBE_CONCURRENCY = 8;
export const PROBE_TIMEOUT_MS = 20_000;

export interface ProbeJobRecord {
  view: ProbeJobView;
  startedAt: number;
  concurrency: number;
  timeoutMs: number;
  /** Why cancelling failed, if it did; the job goes on. */
  cancelError: unknown;
}

export interface ProbeJobsStore {
  /** Subscribes to progress, starts the job, and resolves with its id once the backend took it. */
  start(hosts: Array<{ hostId: number; hostName: string }>): Promise<string>;
  cancel(jobId: string): Promise<void>;
  /** Follows a job this window did not start (after a reload): its states so far, then live ones. */
  attach(jobId: string): Promise<void>;
  get(jobId: string): ProbeJobRecord | undefined;
  /** The job this window started last, if any. */
  latest(): ProbeJobRecord | undefined;
  subscribe(listener: () => void): () => void;
}

/** Events that arrive before `probes.start` answers; a flood of other jobs cannot grow it without end. */
const MAX_EARLY_EVENTS = 10_000;

/**
 * The bulk probes this window started, kept outside React so a job's progress survives
 * moving between pages. Progress is subscribed to before the job starts: the backend
 * emits every host's `queued` state while it answers `probes.start`, so a subscription
 * made after the answer would miss them.
 */
export function createProbeJobsStore(client: ApiClient, now: () => number = Date.now): ProbeJobsStore {
  let jobs = new Map<string, ProbeJobRecord>();
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  const update = (jobId: string, change: (record: ProbeJobRecord) => ProbeJobRecord): void => {
    const record = jobs.get(jobId);
    if (!record) return;
    const next = change(record);
    if (next === record) return;
    jobs = new Map(jobs).set(jobId, next);
    notify();
  };

  return {
    async start(requested) {
      const hosts = [...new Map(requested.map((host) => [host.hostId, host])).values()];
      let jobId: string | null = null;
      let early: ProbeProgress[] = [];
      let stop: (() => Promise<void>) | null = null;
      let stopped = false;
      const stopWhenFinished = (): void => {
        const record = jobId === null ? undefined : jobs.get(jobId);
        if (!record || stopped || !stop || !isJobFinished(record.view)) return;
        stopped = true;
        void stop().catch(() => undefined);
      };
      const onEvent = (event: ProbeProgress): void => {
        if (jobId === null) {
          if (early.length < MAX_EARLY_EVENTS) early.push(event);
          return;
        }
        if (event.jobId !== jobId) return;
        const id = jobId;
        update(id, (record) => {
          const view = applyProgress(record.view, event, now());
          return view === record.view ? record : { ...record, view };
        });
        stopWhenFinished();
      };
      stop = await client.subscribe('probes.progress', {}, onEvent);
      let started: { jobId: string; total: number };
      try {
        started = await client.call('probes.start', {
          hostIds: hosts.map((host) => host.hostId),
          concurrency: PROBE_CONCURRENCY,
          timeoutMs: PROBE_TIMEOUT_MS,
        });
      } catch (error) {
        stopped = true;
        void stop().catch(() => undefined);
        throw error;
      }
      const at = now();
      let view = initialJob(started.jobId, started.total, hosts, at);
      for (const event of early) view = applyProgress(view, event, at);
      early = [];
      jobs = new Map(jobs).set(started.jobId, {
        view,
        startedAt: at,
        concurrency: PROBE_CONCURRENCY,
        timeoutMs: PROBE_TIMEOUT_MS,
        cancelError: null,
      });
      jobId = started.jobId;
      notify();
      stopWhenFinished();
      return started.jobId;
    },
    async cancel(jobId) {
      update(jobId, (record) => ({ ...record, view: { ...record.view, cancelRequested: true }, cancelError: null }));
      try {
        await client.call('probes.cancel', { jobId });
      } catch (error) {
        update(jobId, (record) => ({ ...record, view: { ...record.view, cancelRequested: false }, cancelError: error }));
      }
    },
    async attach(jobId) {
      if (jobs.has(jobId)) return;
      let ready = false;
      const pending: ProbeProgress[] = [];
      let stopped = false;
      const stopFollowing = (): void => {
        if (stopped) return;
        stopped = true;
        void stop().catch(() => undefined);
      };
      // Subscribe first, then read the status: nothing that happens in between is lost.
      const stop = await client.subscribe('probes.progress', { jobId }, (event) => {
        if (!ready) {
          pending.push(event);
          return;
        }
        update(jobId, (record) => {
          const view = applyProgress(record.view, event, now());
          return view === record.view ? record : { ...record, view };
        });
        const record = jobs.get(jobId);
        if (record && isJobFinished(record.view)) stopFollowing();
      });
      let status;
      try {
        status = await client.call('probes.status', { jobId });
      } catch (error) {
        stopFollowing();
        throw error;
      }
      const at = now();
      let view = initialJob(
        jobId,
        status.total,
        status.hosts.map(({ hostId, hostName }) => ({ hostId, hostName })),
        at,
      );
      for (const event of [...status.hosts].sort((a, b) => a.finished - b.finished)) view = applyProgress(view, event, at);
      for (const event of pending) view = applyProgress(view, event, at);
      jobs = new Map(jobs).set(jobId, {
        view,
        startedAt: at,
        concurrency: PROBE_CONCURRENCY,
        timeoutMs: PROBE_TIMEOUT_MS,
        cancelError: null,
      });
      ready = true;
      notify();
      if (status.finished || isJobFinished(view)) stopFollowing();
    },
    get: (jobId) => jobs.get(jobId),
    latest: () => [...jobs.values()].pop(),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
