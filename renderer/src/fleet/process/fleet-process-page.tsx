import { useCallback, useMemo } from 'react';
import { PROCESS_SERIES, seriesName, type FleetProcess } from '../../../../electron/contract';
import { useApiQuery } from '../../api/queries';
import { formatBytes, formatBytesRound } from '../../format/bytes';
import { formatDecimal, formatPercent, formatTickNumber } from '../../format/number';
import { formatDateTime } from '../../format/time';
import { hrefFor } from '../../router/route';
import { navigate } from '../../router/use-route';
import { Card } from '../../ui/card';
import { EmptyState, ErrorNotice, LoadingState } from '../../ui/query-state';
import { RangeCharts, RangePicker, type ChartPanel } from '../../metrics/range-charts';
import { useChartView } from '../../metrics/chart-view';
import { niceTicks } from '../../metrics/axis-ticks';
import { EventText } from '../events/event-text';
import { ProcessControls } from '../host/process-controls';
import { LogView } from './log-view';
import { DeniedNote } from '../../operators/denied-note';
import { useAllowed } from '../../operators/use-session';

/** An instance's charts: the vocabulary's per-process families keyed by the instance. */
export function processPanels(instance: string): ChartPanel[] {
  const one = (id: string, title: string, family: string, format: (v: number) => string, axis: Partial<ChartPanel> = {}): ChartPanel => ({
    id,
    title,
    series: [{ metric: seriesName(family as (typeof PROCESS_SERIES)[keyof typeof PROCESS_SERIES], instance), label: title }],
    format,
    ...axis,
  });
  // Counts and a process's few percent read best on whole steps (0, 1, 2 ...), not 0.25s.
  const whole = { yTicks: (max: number) => niceTicks(max, { floor: 4 }) };
  // A count per second is whole ("7 threads", not "7.00"); a minute's or an hour's mean may not be.
  const count = { ...whole, formatTick: formatTickNumber };
  const formatCount = (v: number) => (Number.isInteger(v) ? String(v) : formatDecimal(v));
  return [
    one('cpu', 'CPU', PROCESS_SERIES.cpuPercent, (v) => formatPercent(v, v < 10 ? 1 : 0), {
      ...whole,
      formatTick: (v) => formatPercent(v, 0),
    }),
    one('rss', 'Memory (RSS)', PROCESS_SERIES.rssBytes, formatBytes, {
      formatTick: formatBytesRound,
      yTicks: (max) => niceTicks(max, { binary: true, floor: 1024 ** 2 }),
    }),
    one('threads', 'Threads', PROCESS_SERIES.threads, formatCount, count),
    one('open-files', 'Open files', PROCESS_SERIES.openFiles, formatCount, count),
    one('restarts', 'Restarts', PROCESS_SERIES.restarts, formatCount, count),
  ];
}

/**
 * One process of an installed host (`#/fleet/hosts/<hostId>/processes/<name>?at=<ms>`):
 * its controls, an instance's charts (opened at `at`: the minutes around it), its logs (at
 * `at` when given) and its events.
 */
export function FleetProcessPage({
  hostId,
  process,
  instance,
  atMs,
}: {
  hostId: number;
  process: string;
  instance?: string;
  atMs?: number;
}) {
  const table = useApiQuery('fleet.processes', { hostId }, { refetchInterval: 3_000 });
  // Logs may be refused by an install's access policy (abac) while the page itself is not: say which rule, instead of a failed follow.
  const reading = useAllowed('logs', { hostId, process });
  const current = table.data?.processes.find((p) => p.name === process);
  const chosen = instance ?? current?.instances[0]?.instance ?? process;
  // One function while the instance stays: a new one each refresh of the table would draw every chart again.
  const onChartPoint = useCallback(
    (atMs: number) => navigate({ name: 'fleet-process', hostId, process, instance: chosen, atMs }),
    [hostId, process, chosen],
  );
  const go = (next: { instance?: string; atMs?: number }) =>
    navigate({
      name: 'fleet-process',
      hostId,
      process,
      ...((next.instance ?? instance) ? { instance: next.instance ?? instance } : {}),
      ...(next.atMs !== undefined ? { atMs: next.atMs } : {}),
    });
  return (
    <section className="page fleet-process-page" data-testid="fleet-process-page" data-process={process} data-instance={chosen}>
      <a className="back-link" href={hrefFor({ name: 'host', hostId })}>
        ← {table.data?.hostName ?? 'The host'}
      </a>
      <header className="page-head">
        <h1>
          {process} <span className="muted">on {table.data?.hostName ?? `host ${hostId}`}</span>
        </h1>
      </header>
      {table.isPending ? <LoadingState label="Asking the runtime…" /> : null}
      {table.isError ? (
        <ErrorNotice title="Could not read the host's processes" error={table.error} onRetry={() => void table.refetch()} />
      ) : null}
      {table.data && !current ? (
        <EmptyState title="No such process on this host">
          The runtime of {table.data.hostName} runs {table.data.processes.map((p) => p.name).join(', ') || 'nothing'}.
        </EmptyState>
      ) : null}
      {current ? <ProcessHead hostId={hostId} process={current} chosen={chosen} onInstance={(i) => go({ instance: i })} /> : null}
      <ProcessCharts hostId={hostId} instance={chosen} atMs={atMs} onPointClick={onChartPoint} />
      <Card title="Logs" aside={<span className="mono">{chosen}</span>}>
        {reading.allowed ? (
          <LogView
            key={chosen}
            hostId={hostId}
            instance={chosen}
            atMs={atMs}
            onJump={(t) => go({ instance: chosen, ...(t !== undefined ? { atMs: t } : {}) })}
          />
        ) : (
          <DeniedNote allowed={reading} testId="logs-denied" />
        )}
      </Card>
      <LastCrash hostId={hostId} process={process} />
      <ProcessEvents hostId={hostId} process={process} />
    </section>
  );
}

function ProcessHead({
  hostId,
  process,
  chosen,
  onInstance,
}: {
  hostId: number;
  process: FleetProcess;
  chosen: string;
  onInstance: (instance: string) => void;
}) {
  const instance = process.instances.find((i) => i.instance === chosen);
  return (
    <Card title="Controls">
      <ProcessControls hostId={hostId} process={process} />
      {process.instances.length > 1 ? (
        <label className="instance-pick">
          Instance{' '}
          <select className="input input-inline" value={chosen} onChange={(e) => onInstance(e.target.value)} data-testid="instance-pick">
            {process.instances.map((i) => (
              <option key={i.instance} value={i.instance}>
                {i.instance} ({i.state})
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {instance ? (
        <p data-testid="instance-now" data-state={instance.state} data-pid={instance.pid ?? ''}>
          {instance.instance}: {instance.state}, {instance.pid === null ? 'no pid' : `pid ${instance.pid}`}, {instance.restarts} restart
          {instance.restarts === 1 ? '' : 's'}
        </p>
      ) : null}
    </Card>
  );
}

function ProcessCharts({
  hostId,
  instance,
  atMs,
  onPointClick,
}: {
  hostId: number;
  instance: string;
  atMs: number | undefined;
  onPointClick: (atMs: number) => void;
}) {
  const view = useChartView('fleet.process.range', atMs);
  const panels = useMemo(() => processPanels(instance), [instance]);
  return (
    <Card title="Charts" aside={<RangePicker view={view} />}>
      <RangeCharts
        key={instance}
        hostId={hostId}
        panels={panels}
        view={view}
        syncId={`process-${hostId}-${instance}`}
        onPointClick={onPointClick}
      />
    </Card>
  );
}

/** The crash kinds a runtime reports with the instance's last lines. */
const CRASH_KINDS = ['process.exit', 'process.crash-loop'];

function LastCrash({ hostId, process }: { hostId: number; process: string }) {
  const crashes = useApiQuery('events.list', { hostId, process, kinds: CRASH_KINDS, limit: 10 }, { refetchInterval: 10_000 });
  const last = crashes.data?.events.find((e) => e.lastLines.length > 0);
  return (
    <Card title="Last crash" aside={last ? formatDateTime(last.atMs) : undefined}>
      {crashes.isError ? <ErrorNotice title="Could not read the crashes" error={crashes.error} /> : null}
      {crashes.data && !last ? <p className="muted">No crash recorded.</p> : null}
      {last ? (
        <div data-testid="last-crash" data-event-id={last.id}>
          <EventText event={last} />
        </div>
      ) : null}
    </Card>
  );
}

function ProcessEvents({ hostId, process }: { hostId: number; process: string }) {
  const events = useApiQuery('events.list', { hostId, process, limit: 50 }, { refetchInterval: 5_000 });
  return (
    <Card title="Events" aside={<a href={hrefFor({ name: 'events' })}>All events</a>}>
      {events.isError ? <ErrorNotice title="Could not read the events" error={events.error} onRetry={() => void events.refetch()} /> : null}
      {events.data?.events.length === 0 ? <p className="muted">No events recorded for {process} yet.</p> : null}
      <ol className="plain-list process-events" data-testid="process-events">
        {events.data?.events.map((event) => (
          <li key={event.id} data-testid="process-event" data-kind={event.kind} data-event-id={event.id}>
            <span className="mono">{formatDateTime(event.atMs)}</span> <span className="badge">{event.kind}</span>{' '}
            {event.instance ? <span className="mono">{event.instance}</span> : null}
            <EventText event={event} />
          </li>
        ))}
      </ol>
    </Card>
  );
}
