import { describe, expect, it } from 'vitest';
import { UNWATCHED_INTERVAL_MS } from '../../../agents-runtime/src/metrics/metrics-service';
import { chartRange, chartRows, countBreaks, liveChartRows, RUNTIME_UNWATCHED_SAMPLE_MS } from '../../../renderer/src/metrics/chart-rows';
import {
  appendLines,
  downloadText,
  filterStream,
  firstLineAt,
  lineText,
  MAX_SHOWN_LINES,
} from '../../../renderer/src/fleet/process/log-lines';
import type { FleetLogLine } from '../../../electron/contract';

describe('chart rows', () => {
  /** The rows of a one-series answer whose points hold the same value as mean, min and max. */
  const cpuRows = (stepMs: number, points: readonly (readonly [number, number])[]) =>
    chartRows({ stepMs, series: [{ metric: 'cpu.percent', points: points.map(([t, v]) => [t, v, v, v] as const) }] }, ['cpu.percent']);

  it('breaks a line where consecutive points are farther apart than the step (12.5 s at the finest), never bridging', () => {
    const rows = cpuRows(1000, [
      [1000, 10],
      [2000, 20],
      [16_000, 60],
      [17_000, 70],
    ]);
    expect(rows.map((r) => [r.t, r['cpu.percent']])).toEqual([
      [1000, 10],
      [2000, 20],
      [9000, null],
      [16_000, 60],
      [17_000, 70],
    ]);
    expect(countBreaks(rows, 'cpu.percent')).toBe(1);
    // Coarser steps break at one step, as before: a missing minute of the 1 m tier shows.
    const minutes = cpuRows(60_000, [
      [0, 1],
      [180_000, 2],
    ]);
    expect(countBreaks(minutes, 'cpu.percent')).toBe(1);
  });

  it("draws a runtime's samples of a time nobody watched (5 s apart) as one line at the 1 s tier", () => {
    // The runtime sampled every 5 s while the app was closed; the backfill stored them at the 1 s tier.
    expect(RUNTIME_UNWATCHED_SAMPLE_MS).toBe(UNWATCHED_INTERVAL_MS);
    const points: [number, number][] = [];
    for (let t = 0; t <= 60_000; t += UNWATCHED_INTERVAL_MS) points.push([t, 5]);
    // A late unwatched tick (busy machine) is not a gap either, then live samples each second.
    points.push([72_000, 7], [73_000, 8], [74_000, 9]);
    expect(countBreaks(cpuRows(1000, points), 'cpu.percent')).toBe(0);
  });

  it('draws consecutive buckets as one line, and series of one answer on one time axis', () => {
    const rows = chartRows(
      {
        stepMs: 60_000,
        series: [
          {
            metric: 'net.rx_bytes_per_s',
            points: [
              [0, 1, 1, 1],
              [60_000, 2, 2, 2],
            ],
          },
          {
            metric: 'net.tx_bytes_per_s',
            points: [
              [0, 3, 3, 3],
              [60_000, 4, 4, 4],
            ],
          },
        ],
      },
      ['net.rx_bytes_per_s', 'net.tx_bytes_per_s', 'load.1m'],
    );
    expect(rows).toEqual([
      { t: 0, 'net.rx_bytes_per_s': 1, 'net.tx_bytes_per_s': 3 },
      { t: 60_000, 'net.rx_bytes_per_s': 2, 'net.tx_bytes_per_s': 4 },
    ]);
    expect(countBreaks(rows, 'load.1m')).toBe(0);
  });

  it('knows its ranges, and falls back to live for one it does not', () => {
    expect(chartRange('7d').spanMs).toBe(7 * 24 * 3600_000);
    expect(chartRange('2y').id).toBe('5m');
    // The live range follows pushed samples; the others are re-read.
    expect(chartRange('5m').refreshMs).toBeNull();
    expect(chartRange('1h').refreshMs).toBeGreaterThan(0);
  });

  it('live: a late sample (one tick slow) and an unwatched one (5 s) draw on, a missing stretch breaks; each series on its own', () => {
    const T = 1_700_000_000_123; // a host's own milliseconds, not on the store's buckets
    const rows = liveChartRows(
      [
        { t: T, 'cpu.percent': 1, 'filesystem.used_percent:/': 50 },
        { t: T + 1000, 'cpu.percent': 2 },
        // 2.2 s later: one tick late, not a gap.
        { t: T + 3200, 'cpu.percent': 3 },
        // 5 s later: a backfilled sample of a time nobody watched (the runtime's unwatched tick), not a gap.
        { t: T + 8200, 'cpu.percent': 4, 'filesystem.used_percent:/': 51 },
        // 20 s with nothing (a link down longer than the runtime's buffer): a gap.
        { t: T + 28_200, 'cpu.percent': 5, 'filesystem.used_percent:/': 52 },
      ],
      ['cpu.percent', 'filesystem.used_percent:/'],
      1000,
    );
    expect(countBreaks(rows, 'cpu.percent')).toBe(1);
    // The filesystem's samples are 8.2 s apart at first: one line there, and a break at the gap.
    expect(countBreaks(rows, 'filesystem.used_percent:/')).toBe(1);
    expect(rows.filter((r) => r['cpu.percent'] === null).map((r) => r.t)).toEqual([T + 18_200]);
    expect(rows.map((r) => r.t)).toEqual([...rows.map((r) => r.t)].sort((a, b) => a - b));
  });
});

const line = (atMs: number, text: string, stream: FleetLogLine['stream'] = 'stdout', cutChars = 0): FleetLogLine => ({
  atMs,
  instance: 'agent-1',
  stream,
  text,
  cutChars,
});

describe('log lines', () => {
  it('shows control and bidi characters as visible escapes, and counts a cut line', () => {
    expect(lineText(line(0, 'a\u001b]52;c;ZXZpbA==\u0007b\u202ec'))).toBe('a\\x1b]52;c;ZXZpbA==\\x07b\\u202ec');
    expect(lineText(line(0, '<b>x</b>\tend'))).toBe('<b>x</b>\\x09end');
    expect(lineText(line(0, 'x'.repeat(3), 'stdout', 1_000_000))).toBe('xxx … (1,000,000 more characters cut)');
  });

  it('filters by stream, finds the line a jump lands on, keeps the newest lines', () => {
    const lines = [line(1, 'a'), line(5, 'b', 'stderr'), line(9, 'c')];
    expect(filterStream(lines, 'stderr').map((l) => l.text)).toEqual(['b']);
    expect(filterStream(lines, 'all')).toHaveLength(3);
    expect(firstLineAt(lines, 4)).toBe(1);
    expect(firstLineAt(lines, 10)).toBe(-1);
    const many = appendLines(
      Array.from({ length: MAX_SHOWN_LINES }, (_, i) => line(i, String(i))),
      [line(MAX_SHOWN_LINES, 'new')],
    );
    expect(many).toHaveLength(MAX_SHOWN_LINES);
    expect(many[0]!.text).toBe('1');
    expect(many.at(-1)!.text).toBe('new');
  });

  it('downloads one visible line per line', () => {
    const text = downloadText([line(0, 'one\nline two', 'stderr')]);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toContain('agent-1 stderr one\\x0aline two');
  });
});
