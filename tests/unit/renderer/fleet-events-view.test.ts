import { describe, expect, it } from 'vitest';
import type { Alert, FleetEvent } from '../../../electron/contract';
import { alertValue, groupAlerts, ruleErrorWhere, shownLabels, withoutWhere } from '../../../renderer/src/fleet/alerts/alert-groups';
import {
  eventsFilter,
  eventsListParams,
  inTimeRange,
  isFiltered,
  kindWords,
  mergeEvents,
  NO_FILTERS,
  restoreFilters,
} from '../../../renderer/src/fleet/events/event-filters';

function event(id: number, atMs: number): FleetEvent {
  return {
    id,
    atMs,
    kind: 'link.up',
    origin: 'link',
    installName: 'prod',
    hostId: 1,
    hostName: 'alpha',
    process: null,
    instance: null,
    state: null,
    message: 'up',
    error: null,
    lastLines: [],
    actor: null,
  };
}

describe('the events timeline’s filters', () => {
  it('send only what was chosen: host, trimmed process, the kinds of a choice, a range counted back from when it was chosen', () => {
    expect(eventsListParams(NO_FILTERS, 1_000_000)).toEqual({});
    expect(isFiltered(NO_FILTERS)).toBe(false);
    const chosen = { ...NO_FILTERS, hostId: 3, process: ' agent-2 ', kind: 'crashes' as const, range: '1h' as const };
    expect(eventsListParams(chosen, 10_000_000)).toEqual({
      hostId: 3,
      process: 'agent-2',
      kinds: ['process.exit', 'process.crash-loop', 'process.crash-loop-left'],
      fromMs: 10_000_000 - 3_600_000,
    });
    expect(eventsFilter(chosen)).toEqual({
      hostId: 3,
      process: 'agent-2',
      kinds: ['process.exit', 'process.crash-loop', 'process.crash-loop-left'],
    });
    expect(isFiltered(chosen)).toBe(true);
  });

  it('take a custom range in local time, open on a side left empty', () => {
    const from = '2026-03-01T10:00';
    const params = eventsListParams({ ...NO_FILTERS, range: 'custom', from, to: '' }, 0);
    expect(params).toEqual({ fromMs: new Date(from).getTime() });
    expect(isFiltered({ ...NO_FILTERS, range: 'custom' })).toBe(false);
    expect(inTimeRange(event(1, 5), { fromMs: 5, toMs: 6 })).toBe(true);
    expect(inTimeRange(event(1, 6), { fromMs: 5, toMs: 6 })).toBe(false);
    expect(inTimeRange(event(1, 4), { fromMs: 5 })).toBe(false);
  });

  it('restore only what they stored', () => {
    expect(restoreFilters({ ...NO_FILTERS, hostId: 2 })).toEqual({ ...NO_FILTERS, hostId: 2 });
    expect(restoreFilters({ ...NO_FILTERS, kind: 'everything' })).toBeNull();
    expect(restoreFilters({ ...NO_FILTERS, hostId: -1 })).toBeNull();
    expect(restoreFilters('x')).toBeNull();
  });

  it('merge pages and live arrivals newest first, each once', () => {
    const merged = mergeEvents([event(5, 300), event(4, 100)], [event(4, 100), event(3, 300), event(2, 200)]);
    expect(merged.map((e) => e.id)).toEqual([5, 3, 2, 4]);
    expect(kindWords('process.crash-loop')).toBe('Crash-loop entered');
    expect(kindWords('process.something-new')).toBe('process.something-new');
  });
});

describe('the alerts list', () => {
  const base = { labels: { alertname: 'X', severity: 'warning', mount: '/', host: 'alpha' } } as const;
  it('groups by state, gives each kind’s value its unit, and leaves out the labels shown elsewhere', () => {
    const alerts = [
      { id: 1, state: 'resolved' },
      { id: 2, state: 'firing' },
      { id: 3, state: 'firing' },
    ] as Alert[];
    expect(groupAlerts(alerts)).toEqual({ firing: [alerts[1], alerts[2]], pending: [], resolved: [alerts[0]] });
    expect(alertValue({ kind: 'filesystem-usage', value: 93.25 })).toBe('93.3 %');
    expect(alertValue({ kind: 'gpu-temperature', value: 91.4 })).toBe('91 °C');
    expect(alertValue({ kind: 'process-restarts', value: 1 })).toBe('1 restart');
    expect(alertValue({ kind: 'certificate-expiry', value: 12 })).toBe('12 days left');
    expect(alertValue({ kind: 'certificate-expiry', value: -1 })).toBe('expired');
    expect(alertValue({ kind: 'host-offline', value: null })).toBeNull();
    expect(shownLabels(base)).toEqual([
      ['host', 'alpha'],
      ['mount', '/'],
    ]);
  });

  it('shows a rule problem’s place apart from its message', () => {
    const error = { file: '/d/alerts/ops.yaml', line: 27, column: 5, message: '/d/alerts/ops.yaml:27:5: unknown key "abov"' };
    expect(ruleErrorWhere(error)).toBe('/d/alerts/ops.yaml:27:5');
    expect(withoutWhere(error)).toBe('unknown key "abov"');
    expect(withoutWhere({ ...error, message: 'no place' })).toBe('no place');
  });
});
