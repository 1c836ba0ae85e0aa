import type { InstallJobSummary } from '../../../electron/contract';
import { RelativeTime } from '../ui/relative-time';
import { formatDuration } from '../format/time';
import { JOB_KIND_TEXT, JOB_STATE_TEXT } from './job-progress';

/** The recent jobs of an install, newest first; one is opened to follow it. */
export function InstallJobsTable({ jobs, onOpen }: { jobs: InstallJobSummary[]; onOpen: (jobId: string) => void }) {
  return (
    <div className="card table-card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Outcome</th>
            <th scope="col">Hosts</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
            <th scope="col" aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.jobId} data-testid="install-job-row" data-kind={job.kind} data-state={job.state} data-job-id={job.jobId}>
              <td>
                {JOB_KIND_TEXT[job.kind]}
                {job.bundle ? <span className="mono muted"> {job.bundle}</span> : null}
              </td>
              <td>
                <span className={`badge job-run-${job.state}`}>{JOB_STATE_TEXT[job.state]}</span>
                {job.error ? <div className="cell-sub">{job.error.message}</div> : null}
              </td>
              <td className="cell-clip">{job.hosts.map((h) => `${h.host} (${h.state})`).join(', ')}</td>
              <td className="nowrap">
                <RelativeTime ms={job.startedAt} />
              </td>
              <td className="nowrap figure">
                {job.finishedAt !== null ? formatDuration(Math.max(0, job.finishedAt - job.startedAt)) : '…'}
              </td>
              <td>
                <button type="button" className="button" onClick={() => onOpen(job.jobId)} data-testid="install-job-open">
                  {job.state === 'running' ? 'Follow' : 'Details'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
