import { describe, expect, it } from 'vitest';
import type { LiveSample, MetricsQueryResult } from '../../../electron/contract';
import {
  EMPTY_WINDOW,
  LIVE_WINDOW_MS,
  appendRow,
  countPoints,
  latestValue,
  liveWindowReducer,
  mergeHistory,
  reduceLiveWindow,
  rowsFromQuery,
  trimToWindow,
  type MetricRow,
} from '../../../renderer/src/metrics/live-window';

const T0 = 1_700_000_000_000;

function sample(t: number, cpu: number): LiveSample {
  return { hostId: 1, t, values: { 'cpu.percent': cpu, 'memory.used_bytes': 1000 + cpu } };
}

function history(fromT: number, count: number, stepMs = 1000): MetricsQueryResult {
  const times = Array.from({ length: count }, (_, i) => fromT + i * stepMs);
  return {
    tier: '1s',
    stepMs,
    series: [
      { metric: 'cpu.percent', points: times.map((t) => [t, 10, 5, 15] as [number, number, number, number]) },
      { metric: 'load.1m', points: times.map((t) => [t, 0.5, 0.5, 0.5] as [number, number, number, number]) },
    ],
  };
}

describe('rowsFromQuery', () => {
  it('joins the series into one row per time, oldest first, using the mean', () => {
    const rows = rowsFromQuery({
      tier: '1s',
      stepMs: 1000,
      series: [
        {
          metric: 'cpu.percent',
          points: [
            [T0 + 1000, 20, 10, 30],
            [T0, 10, 5, 15],
          ],
        },
        { metric: 'load.1m', points: [[T0, 0.5, 0.4, 0.6]] },
      ],
    });
    expect(rows).toEqual([
      { t: T0, 'cpu.percent': 10, 'load.1m': 0.5 },
      { t: T0 + 1000, 'cpu.percent': 20 },
    ]);
  });
});

describe('trimToWindow', () => {
  it('keeps only the last window before the newest row', () => {
    const rows: MetricRow[] = [{ t: T0 }, { t: T0 + 1000 }, { t: T0 + 5000 }];
    expect(trimToWindow(rows, 4000).map((r) => r.t)).toEqual([T0 + 1000, T0 + 5000]);
    expect(trimToWindow([], 4000)).toEqual([]);
  });
});

describe('appendRow', () => {
  it('appends newer rows and trims the oldest out of the window', () => {
    let rows: MetricRow[] = [];
    for (let i = 0; i < 10; i += 1) rows = appendRow(rows, { t: T0 + i * 1000, 'cpu.percent': i }, 5000);
    expect(rows.map((r) => r.t - T0)).toEqual([4000, 5000, 6000, 7000, 8000, 9000]);
  });

  it('puts a late sample in order and replaces a repeated time', () => {
    let rows: MetricRow[] = [{ t: T0 }, { t: T0 + 2000 }];
    rows = appendRow(rows, { t: T0 + 1000, 'cpu.percent': 1 }, 60_000);
    expect(rows.map((r) => r.t - T0)).toEqual([0, 1000, 2000]);
    rows = appendRow(rows, { t: T0 + 1000, 'cpu.percent': 2 }, 60_000);
    expect(rows).toHaveLength(3);
    expect(rows[1]?.['cpu.percent']).toBe(2);
  });

  it('ignores a sample older than the window', () => {
    const rows = appendRow([{ t: T0 + 100_000 }], { t: T0 }, 5000);
    expect(rows.map((r) => r.t)).toEqual([T0 + 100_000]);
  });
});

describe('mergeHistory', () => {
  it('puts history before the live samples that arrived while it loaded', () => {
    const merged = mergeHistory(rowsFromQuery(history(T0, 5)), [{ t: T0 + 10_000, 'cpu.percent': 50 }], 1000, LIVE_WINDOW_MS);
    expect(merged.map((r) => r.t - T0)).toEqual([0, 1000, 2000, 3000, 4000, 10_000]);
  });

  it('drops a history point that is the first live sample seen again (bucket start vs exact time)', () => {
    // History bucket at T0+4000 holds the sample the live feed delivered at T0+4250.
    const merged = mergeHistory(rowsFromQuery(history(T0, 5)), [{ t: T0 + 4250, 'cpu.percent': 50 }], 1000, LIVE_WINDOW_MS);
    expect(merged.map((r) => r.t - T0)).toEqual([0, 1000, 2000, 3000, 4250]);
  });

  it('keeps all of the history when nothing live arrived yet', () => {
    expect(mergeHistory(rowsFromQuery(history(T0, 3)), [], 1000, LIVE_WINDOW_MS)).toHaveLength(3);
  });
});

describe('the live window', () => {
  it('shows history, then follows live samples, never holding more than five minutes', () => {
    // Five minutes of stored history at 1 s, then a reload: history first, then live.
    let state = reduceLiveWindow(EMPTY_WINDOW, { type: 'history', result: history(T0, 300) }, LIVE_WINDOW_MS);
    expect(state.historyLoaded).toBe(true);
    expect(countPoints(state.rows, 'cpu.percent')).toBe(300);
    for (let i = 0; i < 30; i += 1) {
      state = reduceLiveWindow(state, { type: 'live', sample: sample(T0 + 300_000 + i * 1000, i) }, LIVE_WINDOW_MS);
    }
    const first = state.rows[0]!;
    const last = state.rows[state.rows.length - 1]!;
    expect(last.t - first.t).toBeLessThanOrEqual(LIVE_WINDOW_MS);
    expect(countPoints(state.rows, 'cpu.percent')).toBe(301);
    expect(latestValue(state.rows, 'cpu.percent')).toBe(29);
  });

  it('keeps live samples that arrived before the history answer', () => {
    let state = liveWindowReducer(EMPTY_WINDOW, { type: 'live', sample: sample(T0 + 10_000, 1) });
    state = liveWindowReducer(state, { type: 'live', sample: sample(T0 + 11_000, 2) });
    state = liveWindowReducer(state, { type: 'history', result: history(T0, 10) });
    expect(state.rows.map((r) => r.t - T0)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000, 11_000]);
    expect(state.rows[10]?.['memory.used_bytes']).toBe(1001);
  });

  it('grows by one point per live sample on an empty start (a fresh install)', () => {
    let state = liveWindowReducer(EMPTY_WINDOW, { type: 'history', result: { tier: '1s', stepMs: 1000, series: [] } });
    expect(countPoints(state.rows, 'cpu.percent')).toBe(0);
    for (let i = 0; i < 4; i += 1) state = liveWindowReducer(state, { type: 'live', sample: sample(T0 + i * 1000, i) });
    expect(countPoints(state.rows, 'cpu.percent')).toBe(4);
  });

  it('counts only rows that carry the metric', () => {
    const rows: MetricRow[] = [
      { t: 1, 'cpu.percent': 1 },
      { t: 2, 'load.1m': 1 },
      { t: 3, 'cpu.percent': 0 },
    ];
    expect(countPoints(rows, 'cpu.percent')).toBe(2);
    expect(latestValue(rows, 'load.1m')).toBe(1);
    expect(latestValue(rows, 'net.rx_bytes_per_s')).toBeNull();
  });

  it('takes a frame’s samples at once as one by one, a backfill’s older seconds put in order', () => {
    const samples = [sample(T0 + 5000, 5), sample(T0 + 6000, 6), sample(T0 + 2000, 2), sample(T0 + 3000, 3), sample(T0 + 6000, 66)];
    const oneByOne = samples.reduce((state, s) => liveWindowReducer(state, { type: 'live', sample: s }), EMPTY_WINDOW);
    const atOnce = liveWindowReducer(EMPTY_WINDOW, { type: 'samples', samples });
    expect(atOnce).toEqual(oneByOne);
    expect(atOnce.rows.map((r) => [r.t - T0, r['cpu.percent']])).toEqual([
      [2000, 2],
      [3000, 3],
      [5000, 5],
      [6000, 66],
    ]);
  });

  it('starts over on reset', () => {
    const state = liveWindowReducer(EMPTY_WINDOW, { type: 'live', sample: sample(T0, 1) });
    expect(liveWindowReducer(state, { type: 'reset' })).toEqual(EMPTY_WINDOW);
  });
});
