import { describe, expect, it } from 'vitest';
import { chartRange, chartRows, countBreaks, liveChartRows } from '../../../renderer/src/metrics/chart-rows';
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
  it('breaks a line where consecutive points are farther apart than the step, never bridging', () => {
    const rows = chartRows(
      {
        stepMs: 1000,
        series: [
          {
            metric: 'cpu.percent',
            points: [
              [1000, 10, 10, 10],
              [2000, 20, 20, 20],
              [6000, 60, 60, 60],
              [7000, 70, 70, 70],
            ],
          },
        ],
      },
      ['cpu.percent'],
    );
    expect(rows.map((r) => [r.t, r['cpu.percent']])).toEqual([
      [1000, 10],
      [2000, 20],
      [4000, null],
      [6000, 60],
      [7000, 70],
    ]);
    expect(countBreaks(rows, 'cpu.percent')).toBe(1);
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

  it('live: a late sample (one tick slow) draws on, a missing stretch breaks; each series on its own', () => {
    const T = 1_700_000_000_123; // a host's own milliseconds, not on the store's buckets
    const rows = liveChartRows(
      [
        { t: T, 'cpu.percent': 1, 'filesystem.used_percent:/': 50 },
        { t: T + 1000, 'cpu.percent': 2 },
        // 2.2 s later: one tick late, not a gap.
        { t: T + 3200, 'cpu.percent': 3, 'filesystem.used_percent:/': 51 },
        // 10 s with nothing (a link down longer than the runtime's buffer): a gap.
        { t: T + 13_200, 'cpu.percent': 4, 'filesystem.used_percent:/': 52 },
      ],
      ['cpu.percent', 'filesystem.used_percent:/'],
      1000,
    );
    expect(countBreaks(rows, 'cpu.percent')).toBe(1);
    // The filesystem's samples are 3.2 s apart at first: a break there too, and one at the gap.
    expect(countBreaks(rows, 'filesystem.used_percent:/')).toBe(2);
    expect(rows.filter((r) => r['cpu.percent'] === null).map((r) => r.t)).toEqual([T + 8200]);
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
