import type { InstallJobSummary } from '../../../electron/contract';
import { formatDuration } from '../format/time';
import { DataTable, type Column } from '../ui/data-table';
import { RelativeTime } from '../ui/relative-time';
import { JOB_KIND_TEXT, JOB_STATE_TEXT } from './job-progress';

function columns(onOpen: (jobId: string) => void): Array<Column<InstallJobSummary>> {
  return [
    {
      header: 'Job',
      cell: (job) => (
        <>
          {JOB_KIND_TEXT[job.kind]}
          {job.bundle ? <span className="mono muted"> {job.bundle}</span> : null}
        </>
      ),
    },
    {
      header: 'Outcome',
      cell: (job) => (
        <>
          <span className={`badge job-run-${job.state}`}>{JOB_STATE_TEXT[job.state]}</span>
          {job.error ? <div className="cell-sub">{job.error.message}</div> : null}
        </>
      ),
    },
    { header: 'Hosts', className: 'cell-clip', cell: (job) => job.hosts.map((h) => `${h.host} (${h.state})`).join(', ') },
    { header: 'Started', className: 'nowrap', cell: (job) => <RelativeTime ms={job.startedAt} /> },
    {
      header: 'Took',
      className: 'nowrap figure',
      cell: (job) => (job.finishedAt !== null ? formatDuration(Math.max(0, job.finishedAt - job.startedAt)) : '…'),
    },
    {
      label: 'Actions',
      cell: (job) => (
        <button type="button" className="button" onClick={() => onOpen(job.jobId)} data-testid="install-job-open">
          {job.state === 'running' ? 'Follow' : 'Details'}
        </button>
      ),
    },
  ];
}

/** The recent jobs of an install, newest first; one is opened to follow it. */
export function InstallJobsTable({ jobs, onOpen }: { jobs: InstallJobSummary[]; onOpen: (jobId: string) => void }) {
  return (
    <div className="card table-card">
      <DataTable
        columns={columns(onOpen)}
        rows={jobs}
        rowKey={(job) => job.jobId}
        rowProps={(job) => ({ 'data-testid': 'install-job-row', 'data-kind': job.kind, 'data-state': job.state, 'data-job-id': job.jobId })}
      />
    </div>
  );
}
