import { visibleText, type FleetEvent, type HostSummary } from '../../../../electron/contract';
import { useHostList } from '../../api/queries';
import { formatDateTime } from '../../format/time';
import { hrefFor } from '../../router/route';
import { DataTable, type Column } from '../../ui/data-table';
import { EmptyState, ErrorNotice, LoadingState } from '../../ui/query-state';
import { RelativeTime } from '../../ui/relative-time';
import { useDebouncedValue } from '../../ui/use-debounced-value';
import { useRangeFilters } from '../../ui/use-range-filters';
import { ToolbarField, ToolbarSearch, ToolbarSelect } from '../../ui/toolbar-field';
import {
  eventsListParams,
  isFiltered,
  KIND_CHOICES,
  kindTone,
  kindWords,
  NO_FILTERS,
  RANGE_CHOICES,
  restoreFilters,
  type EventFilters,
  type KindChoice,
  type RangeChoice,
} from './event-filters';
import { EventText } from './event-text';
import { useFleetEvents } from './use-fleet-events';

/**
 * The fleet's timeline (Cockpit's Logs, for events): what every host's runtime reported, the
 * links going up and down, and every operator action with who did it; newest first, new
 * ones arriving at the top as they are recorded, filtered by host, process, kind and time.
 */
export function EventsPage() {
  const { filters, change, anchorMs } = useRangeFilters<EventFilters>('events.filters', NO_FILTERS, restoreFilters);
  const process = useDebouncedValue(filters.process, 300);
  const params = eventsListParams({ ...filters, process }, anchorMs);
  const hosts = useHostList();
  const { events, pages, liveError } = useFleetEvents(params);
  const knownHosts = new Map((hosts.data ?? []).map((host) => [host.id, host]));

  return (
    <section className="page" data-testid="events-page">
      <header className="page-head">
        <div>
          <h1>Events</h1>
          <p className="page-sub">
            What happened across the fleet, newest first: what each host’s runtime reported (state changes, crashes with their last log
            lines, crash-loops, health), links going up and down, and every operator action with who took it. New events appear at the top
            as they are recorded.
          </p>
        </div>
      </header>
      <EventFilterBar filters={filters} hosts={hosts.data ?? []} onChange={change} />
      {liveError ? <ErrorNotice title="New events are not arriving: the page could not follow them" error={liveError} /> : null}
      {pages.isError ? <ErrorNotice title="Could not load the events" error={pages.error} onRetry={() => void pages.refetch()} /> : null}
      {pages.isPending ? (
        <LoadingState label="Loading the events…" />
      ) : events.length === 0 ? (
        pages.isError ? null : isFiltered(filters) ? (
          <EmptyState title="No event matches these filters">
            Events of other hosts, processes, kinds or times are hidden.{' '}
            <button type="button" className="button" onClick={() => change(NO_FILTERS)}>
              Clear the filters
            </button>
          </EmptyState>
        ) : (
          <EmptyState title="No events recorded yet">
            Events come from the runtimes of installed hosts (over each host’s link), from the links themselves and from actions taken here
            or with the <span className="mono">sutazai</span> command. Nothing installed yet?{' '}
            <a href={hrefFor({ name: 'install' })}>The Install page</a> walks you through a first install; its events will show here.
          </EmptyState>
        )
      ) : (
        <div className="stack">
          <p className="toolbar-count" data-testid="events-count">
            {events.length === 1 ? 'One event' : `${events.length} events`} shown
            {pages.hasNextPage ? ', older ones below' : ''}. Times are this computer’s local time; a runtime’s events carry the time of its
            host’s clock.
          </p>
          <div className="card table-card">
            <DataTable
              className="events-table"
              columns={columns(knownHosts)}
              rows={events}
              rowKey={(event) => event.id}
              rowProps={(event) => ({
                'data-testid': 'event-row',
                'data-event-id': event.id,
                'data-kind': event.kind,
                'data-host-name': event.hostName ?? '',
              })}
            />
          </div>
          {pages.hasNextPage ? (
            <button
              type="button"
              className="button"
              disabled={pages.isFetchingNextPage}
              onClick={() => void pages.fetchNextPage()}
              data-testid="events-older"
            >
              {pages.isFetchingNextPage ? 'Loading older events…' : 'Show older events'}
            </button>
          ) : (
            <p className="muted" data-testid="events-end">
              {isFiltered(filters) ? 'No older event matches these filters.' : 'No older events: older ones went with the retention.'}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

function EventFilterBar({
  filters,
  hosts,
  onChange,
}: {
  filters: EventFilters;
  hosts: readonly HostSummary[];
  onChange: (next: Partial<EventFilters>) => void;
}) {
  const hostChoices = [
    { value: '', label: 'Every host' },
    ...[...hosts].sort((a, b) => a.name.localeCompare(b.name)).map((host) => ({ value: String(host.id), label: visibleText(host.name) })),
  ];
  // One of the custom range's ends: a local time to the second, empty for open.
  const timeField = (label: string, key: 'from' | 'to', testId: string) => (
    <ToolbarField label={label}>
      <input
        className="input input-inline"
        type="datetime-local"
        step={1}
        value={filters[key]}
        onChange={(event) => onChange({ [key]: event.target.value })}
        data-testid={testId}
      />
    </ToolbarField>
  );
  return (
    <div className="toolbar-group events-filters" role="group" aria-label="Filter the events">
      <ToolbarSelect
        label="Host"
        value={filters.hostId === null ? '' : String(filters.hostId)}
        choices={hostChoices}
        onChange={(value) => onChange({ hostId: value === '' ? null : Number(value) })}
        testId="events-host"
      />
      <ToolbarSearch
        label="Process"
        value={filters.process}
        placeholder="agent or agent-2"
        maxLength={128}
        onChange={(process) => onChange({ process })}
        testId="events-process"
      />
      <ToolbarSelect<KindChoice | ''>
        label="Kind"
        value={filters.kind}
        choices={[{ value: '', label: 'Every kind' }, ...KIND_CHOICES]}
        onChange={(kind) => onChange({ kind })}
        testId="events-kind"
      />
      <ToolbarSelect<RangeChoice>
        label="When"
        value={filters.range}
        choices={RANGE_CHOICES}
        onChange={(range) => onChange({ range })}
        testId="events-range"
      />
      {filters.range === 'custom' ? (
        <>
          {timeField('From', 'from', 'events-from')}
          {timeField('Until', 'to', 'events-to')}
        </>
      ) : null}
    </div>
  );
}

const TONE_CLASS = { fail: 'status status-fail', warn: 'status status-warn', ok: 'status status-ok', neutral: 'status' } as const;

function columns(knownHosts: Map<number, HostSummary>): Array<Column<FleetEvent>> {
  return [
    {
      header: 'When',
      className: 'nowrap',
      cellProps: (event) => ({ 'data-testid': 'event-time', 'data-at-ms': event.atMs }),
      cell: (event) => (
        <>
          <span className="figure">{formatDateTime(event.atMs)}</span>
          <div className="cell-sub">
            <RelativeTime ms={event.atMs} />
            {event.origin === 'runtime' ? (
              <span
                title="The time the runtime gave it, by its host’s clock, which may differ from this computer’s."
                data-testid="event-clock"
              >
                {' '}
                · host’s clock
              </span>
            ) : null}
          </div>
        </>
      ),
    },
    {
      header: 'Kind',
      cellProps: () => ({ 'data-testid': 'event-kind' }),
      cell: (event) => (
        <>
          <span className={TONE_CLASS[kindTone(event)]}>{kindWords(event.kind)}</span>
          <div className="cell-sub mono">
            {event.kind}
            {event.state !== null ? ` → ${visibleText(event.state)}` : ''}
          </div>
        </>
      ),
    },
    {
      header: 'Where',
      cellProps: () => ({ 'data-testid': 'event-where' }),
      cell: (event) => <EventWhere event={event} knownHosts={knownHosts} />,
    },
    {
      header: 'What happened',
      className: 'events-what',
      cellProps: () => ({ 'data-testid': 'event-what' }),
      cell: (event) => <EventText event={event} />,
    },
  ];
}

function EventWhere({ event, knownHosts }: { event: FleetEvent; knownHosts: Map<number, HostSummary> }) {
  const instance = event.instance ?? event.process;
  const host =
    event.hostId === null ? (
      <span className="muted">the whole fleet</span>
    ) : knownHosts.has(event.hostId) ? (
      <a className="host-name" href={hrefFor({ name: 'host', hostId: event.hostId })} data-testid="event-host">
        {visibleText(event.hostName ?? knownHosts.get(event.hostId)!.name)}
      </a>
    ) : (
      // The host was removed from the inventory since: its name as recorded, nowhere to go.
      <span className="host-name" title="This host is no longer in the inventory." data-testid="event-host">
        {visibleText(event.hostName ?? `host ${event.hostId}`)} <span className="muted">(removed)</span>
      </span>
    );
  return (
    <>
      {host}
      <div className="cell-sub">
        {event.installName !== null ? <>install {visibleText(event.installName)}</> : null}
        {event.installName !== null && instance !== null ? ' · ' : null}
        {instance !== null ? (
          <span className="mono" data-testid="event-instance">
            {visibleText(instance)}
          </span>
        ) : null}
      </div>
      {event.hostId !== null && event.process !== null && knownHosts.has(event.hostId) ? (
        <div className="cell-sub">
          <a
            href={hrefFor({
              name: 'fleet-process',
              hostId: event.hostId,
              process: event.process,
              ...(event.instance !== null ? { instance: event.instance } : {}),
              atMs: event.atMs,
            })}
            title="The process’s logs and charts around the second this happened"
            data-testid="event-logs"
          >
            Logs at this second
          </a>
        </div>
      ) : event.hostId !== null && knownHosts.has(event.hostId) ? (
        // A host's own event (its link down or up): the host's charts around that second.
        <div className="cell-sub">
          <a
            href={hrefFor({ name: 'host', hostId: event.hostId, atMs: event.atMs })}
            title="The host’s charts around the second this happened"
            data-testid="event-charts"
          >
            Charts at this second
          </a>
        </div>
      ) : null}
    </>
  );
}
