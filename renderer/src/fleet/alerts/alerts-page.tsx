import { useQueryClient } from '@tanstack/react-query';
import { visibleText, type Alert, type AlertRuleError, type AlertState } from '../../../../electron/contract';
import { apiKey, useApiQuery, useHostList } from '../../api/queries';
import { useApiAction } from '../../api/use-api-action';
import { useApiEvent } from '../../api/use-api-event';
import { formatDateTime } from '../../format/time';
import { hrefFor } from '../../router/route';
import { Card } from '../../ui/card';
import { DataTable, type Column } from '../../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../../ui/query-state';
import { RelativeTime } from '../../ui/relative-time';
import { useAllowed } from '../../operators/use-session';
import { alertValue, groupAlerts, ruleErrorWhere, shownLabels, withoutWhere } from './alert-groups';
import { DeniedNote } from '../../operators/denied-note';

const ALL_STATES = {};

/**
 * The alerts (Prometheus's Alerts page, Netdata's alarms): what fires now, what holds but
 * has not held long enough to fire, and what resolved in the last day, each with its rule,
 * host, since when, the value that raised it and its labels; acknowledged by an operator
 * (who and when kept). Rule files that did not load are listed with file:line:column.
 */
export function AlertsPage() {
  const queryClient = useQueryClient();
  const alerts = useApiQuery('alerts.list', ALL_STATES);
  const rules = useApiQuery('alerts.rules', {});
  const hosts = useHostList();
  useApiEvent('alerts.changed', {}, () => void queryClient.invalidateQueries({ queryKey: apiKey('alerts.list') }));
  const knownHosts = new Set((hosts.data ?? []).map((host) => host.id));
  // The page invites acknowledging: a viewer reads why the buttons are off without hovering each.
  const acknowledging = useAllowed('acknowledge');
  return (
    <section className="page" data-testid="alerts-page">
      <header className="page-head">
        <div>
          <h1>Alerts</h1>
          <p className="page-sub">
            The alert rules are checked every 10 seconds against every installed host’s link, metrics, processes and certificates. An alert
            is <strong>pending</strong> while its condition holds but not yet for as long as the rule asks, <strong>firing</strong> once it
            has, and <strong>resolved</strong> when the condition stops holding. Acknowledge an alert to record that you are on it.
          </p>
        </div>
      </header>
      <DeniedNote allowed={acknowledging} testId="alerts-denied" />
      {rules.isError ? (
        <ErrorNotice title="Could not read the alert rules" error={rules.error} onRetry={() => void rules.refetch()} />
      ) : rules.data && rules.data.errors.length > 0 ? (
        <RuleProblems errors={rules.data.errors} />
      ) : null}
      {alerts.isError ? (
        <ErrorNotice title="Could not load the alerts" error={alerts.error} onRetry={() => void alerts.refetch()} />
      ) : !alerts.data ? (
        <LoadingState label="Loading the alerts…" />
      ) : alerts.data.alerts.length === 0 ? (
        <EmptyState title="No alerts: nothing is firing or pending, and nothing resolved in the last 24 hours">
          {rules.data === undefined ? null : rules.data.rules.length === 0 ? (
            <>
              No alert rule is loaded, so nothing is watched. The shipped rules are in <span className="mono">config/alerts/</span>; your
              own go in the <span className="mono">alerts</span> folder of the data directory.
            </>
          ) : (
            <>
              {rules.data.rules.length === 1 ? 'One rule is' : `${rules.data.rules.length} rules are`} watching the fleet (
              {rules.data.rules.map((rule) => rule.name).join(', ')}); an alert shows here as soon as one of them holds.
            </>
          )}
        </EmptyState>
      ) : (
        <AlertGroups alerts={alerts.data.alerts} knownHosts={knownHosts} />
      )}
      {rules.data && rules.data.rules.length > 0 ? (
        <p className="muted" data-testid="alerts-rules-loaded">
          {rules.data.rules.length === 1 ? 'One rule' : `${rules.data.rules.length} rules`} loaded from the shipped{' '}
          <span className="mono">config/alerts/</span> and the <span className="mono">alerts</span> folder of the data directory (a rule
          there replaces a shipped one of the same name).
        </p>
      ) : null}
    </section>
  );
}

const GROUP_TITLES: Record<AlertState, { title: string; none: string }> = {
  firing: { title: 'Firing', none: 'Nothing is firing.' },
  pending: { title: 'Pending', none: 'Nothing is pending.' },
  resolved: { title: 'Resolved in the last 24 hours', none: 'Nothing resolved in the last 24 hours.' },
};

function AlertGroups({ alerts, knownHosts }: { alerts: readonly Alert[]; knownHosts: Set<number> }) {
  const groups = groupAlerts(alerts);
  return (
    <div className="stack">
      {(['firing', 'pending', 'resolved'] as const).map((state) => (
        <Card
          key={state}
          title={GROUP_TITLES[state].title}
          aside={<span data-testid={`alerts-${state}-count`}>{groups[state].length}</span>}
          testId={`alerts-${state}`}
        >
          {groups[state].length === 0 ? (
            <p className="muted">{GROUP_TITLES[state].none}</p>
          ) : (
            <DataTable
              className="alerts-table"
              columns={columns(state, knownHosts)}
              rows={groups[state]}
              rowKey={(alert) => alert.id}
              rowProps={(alert) => ({
                'data-testid': 'alert-row',
                'data-alert-id': alert.id,
                'data-rule': alert.rule,
                'data-state': alert.state,
              })}
            />
          )}
        </Card>
      ))}
    </div>
  );
}

const SEVERITY_CLASS: Record<Alert['severity'], string> = {
  critical: 'status status-fail',
  warning: 'status status-warn',
  info: 'status',
};

function columns(state: AlertState, knownHosts: Set<number>): Array<Column<Alert>> {
  return [
    {
      header: 'Severity',
      cell: (alert) => <span className={SEVERITY_CLASS[alert.severity]}>{alert.severity}</span>,
    },
    {
      header: 'Rule and what holds',
      className: 'alerts-what',
      cellProps: () => ({ 'data-testid': 'alert-rule' }),
      cell: (alert) => (
        <>
          <span className="mono">{visibleText(alert.rule)}</span>
          <div className="alert-summary" data-testid="alert-summary">
            {visibleText(alert.summary)}
          </div>
        </>
      ),
    },
    {
      header: 'Host',
      cellProps: () => ({ 'data-testid': 'alert-host' }),
      cell: (alert) => {
        const name = alert.labels.host !== undefined ? visibleText(alert.labels.host) : null;
        if (alert.hostId !== null && knownHosts.has(alert.hostId))
          return (
            <a className="host-name" href={hrefFor({ name: 'host', hostId: alert.hostId })}>
              {name ?? `host ${alert.hostId}`}
            </a>
          );
        return name !== null ? <span className="host-name">{name}</span> : <span className="muted">not one host</span>;
      },
    },
    {
      header: state === 'resolved' ? 'Resolved' : state === 'firing' ? 'Firing since' : 'Holding since',
      className: 'nowrap',
      cellProps: () => ({ 'data-testid': 'alert-since' }),
      cell: (alert) => {
        const ms = state === 'resolved' ? alert.resolvedAtMs : state === 'firing' ? alert.firingSinceMs : alert.activeSinceMs;
        return (
          <>
            <RelativeTime ms={ms} />
            <div className="cell-sub">{ms !== null ? formatDateTime(ms) : null}</div>
          </>
        );
      },
    },
    {
      header: 'Value',
      numeric: true,
      cellProps: (alert) => ({ 'data-testid': 'alert-value', 'data-value': alert.value ?? '' }),
      cell: (alert) => {
        const text = alertValue(alert);
        return text === null ? <span className="muted">—</span> : <span className="figure">{text}</span>;
      },
    },
    {
      header: 'Labels',
      cellProps: () => ({ 'data-testid': 'alert-labels' }),
      cell: (alert) => (
        <ul className="alert-labels">
          {shownLabels(alert).map(([key, value]) => (
            <li key={key} className="badge mono">
              {visibleText(key)}={visibleText(value)}
            </li>
          ))}
        </ul>
      ),
    },
    {
      header: 'Acknowledged',
      cellProps: () => ({ 'data-testid': 'alert-ack' }),
      cell: (alert) => <Acknowledge alert={alert} />,
    },
  ];
}

function Acknowledge({ alert }: { alert: Alert }) {
  const queryClient = useQueryClient();
  const ack = useApiAction('alerts.ack');
  const acknowledge = useAllowed('acknowledge');
  if (alert.acknowledged !== null)
    return (
      <span data-testid="alert-acknowledged">
        by <span className="mono">{visibleText(alert.acknowledged.by)}</span>
        <div className="cell-sub">
          <RelativeTime ms={alert.acknowledged.atMs} /> · {formatDateTime(alert.acknowledged.atMs)}
        </div>
      </span>
    );
  return (
    <>
      <button
        type="button"
        className="button"
        disabled={ack.pending || !acknowledge.allowed}
        title={
          acknowledge.reason ??
          'Record that you have seen this alert (with who you are and when); it keeps firing while its condition holds.'
        }
        onClick={() => void ack.run({ id: alert.id }).then(() => queryClient.invalidateQueries({ queryKey: apiKey('alerts.list') }))}
        data-testid="alert-ack-button"
      >
        {ack.pending ? 'Acknowledging…' : 'Acknowledge'}
      </button>
      {ack.state.status === 'error' ? <ErrorNotice title="The acknowledgement was not recorded" error={ack.state.error} /> : null}
    </>
  );
}

function RuleProblems({ errors }: { errors: readonly AlertRuleError[] }) {
  return (
    <div className="notice notice-error" role="alert" data-testid="alert-rule-problems">
      <div className="notice-body">
        <p className="notice-title">
          {errors.length === 1 ? 'One alert rule did not load' : `${errors.length} alert rules did not load`}; the other rules keep working
        </p>
        <ul className="plain-list">
          {errors.map((error, index) => (
            <li key={index} data-testid="alert-rule-problem">
              <span className="mono" data-testid="alert-rule-problem-where">
                {visibleText(ruleErrorWhere(error))}
              </span>{' '}
              {visibleText(withoutWhere(error))}
              <div className="notice-remedy">{visibleText(error.remedy)}</div>
              <div className="notice-code">{error.code}</div>
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
