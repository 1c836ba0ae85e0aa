import { useEffect, useRef } from 'react';
import type { PreflightReport } from '../../../electron/contract';
import { formatDateTime } from '../format/time';
import { reportFileName } from './export-report';
import { countOutcomes, describeCounts } from './outcomes';
import { hrefFor } from '../router/route';
import { DownloadJsonButton } from '../ui/download-json-button';
import { OutcomeBadge } from './outcome-badge';
import { PreflightChecksTable } from './preflight-checks';
import { RelativeTime } from '../ui/relative-time';

/** A preflight of several hosts: each host's verdict with its checks, and the checks across them. */
export function PreflightReportView({ report, onClose }: { report: PreflightReport; onClose: () => void }) {
  const hostNames = new Map(report.hosts.map((h) => [h.hostId, h.hostName]));
  const subject = report.hosts.length === 1 ? (report.hosts[0]?.hostName ?? 'host') : `${report.hosts.length}-hosts`;
  const several = report.hosts.length > 1;
  const ref = useRef<HTMLElement>(null);
  // A new report appears below the list, often out of sight: bring it into view.
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  }, [report.ranAt]);
  return (
    <section ref={ref} className="card" data-testid="preflight-report" aria-label={`Preflight report, profile ${report.profile}`}>
      <header className="card-head card-head-actions">
        <h2>
          Preflight: {report.profile} <OutcomeBadge outcome={report.outcome} />
        </h2>
        <div className="actions">
          <span className="card-aside">Ran {formatDateTime(report.ranAt)}</span>
          <DownloadJsonButton data={report} fileName={reportFileName(report.profile, subject, report.ranAt)} />
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
      </header>
      <div className="card-body report-body">
        {several && report.crossHost.length > 0 ? (
          <div data-testid="preflight-cross-host">
            <h3 className="subhead">Across the {report.hosts.length} hosts</h3>
            <div className="table-scroll-flat">
              <PreflightChecksTable checks={report.crossHost} hostNames={hostNames} />
            </div>
          </div>
        ) : null}
        {several ? <h3 className="subhead">Each host</h3> : null}
        {report.hosts.map((host) => {
          const counts = countOutcomes(host.checks);
          return (
            <details
              key={host.hostId}
              className="report-host"
              open={!several || host.outcome === 'fail'}
              data-testid="preflight-host"
              data-host-name={host.hostName}
            >
              <summary>
                <OutcomeBadge outcome={host.outcome} />{' '}
                <a href={hrefFor({ name: 'host', hostId: host.hostId })} className="host-name">
                  {host.hostName}
                </a>{' '}
                <span className="muted">
                  {describeCounts(counts)} · facts probed <RelativeTime ms={host.factsProbedAt} never="never" />
                </span>
              </summary>
              <div className="table-scroll-flat">
                <PreflightChecksTable checks={host.checks} />
              </div>
            </details>
          );
        })}
      </div>
    </section>
  );
}
