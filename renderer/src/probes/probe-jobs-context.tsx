import { createContext, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import { useApiClient } from '../api/api-context';
import { createProbeJobsStore, type ProbeJobRecord, type ProbeJobsStore } from './probe-jobs';

const ProbeJobsContext = createContext<ProbeJobsStore | null>(null);

/** One store of bulk probes per connection, above every page that starts or shows them. */
export function ProbeJobsProvider({ children }: { children: ReactNode }) {
  const client = useApiClient();
  const store = useMemo(() => createProbeJobsStore(client), [client]);
  return <ProbeJobsContext.Provider value={store}>{children}</ProbeJobsContext.Provider>;
}

export function useProbeJobs(): ProbeJobsStore {
  const store = useContext(ProbeJobsContext);
  if (!store) throw new Error('useProbeJobs needs a <ProbeJobsProvider> above it');
  return store;
}

/** One job's record, kept current as its progress arrives; undefined for a job this window did not start. */
export function useProbeJob(jobId: string): ProbeJobRecord | undefined {
  const store = useProbeJobs();
  return useSyncExternalStore(store.subscribe, () => store.get(jobId));
}

/** The job this window started last, kept current; undefined before the first. */
export function useLatestProbeJob(): ProbeJobRecord | undefined {
  const store = useProbeJobs();
  return useSyncExternalStore(store.subscribe, store.latest);
}
