import { describe, expect, it } from 'vitest';
import { sampleSeries, type MetricSample__Output } from '../../../agents-runtime/src/wire';
import { createFleetReadings } from '../../../electron/backend/fleet/alerts/fleet-readings';

/** A StreamMetrics sample with one running instance and its two restart counts. */
function sample(atMs: number, crash: number, operator: number): MetricSample__Output {
  return {
    atMs: String(atMs),
    host: null,
    instances: [
      {
        instance: 'agent-1',
        process: 'agent',
        pid: 4242,
        cpuPercent: 1,
        rssBytes: '1',
        threads: 1,
        restarts: crash,
        operatorRestarts: operator,
        uptimeMs: '1000',
      },
    ],
  };
}

describe('restart reasons as the control center reads them', () => {
  it("the restarts alert counts crash restarts from the stream; the operator's restarts, stored apart, are not crashes", () => {
    const readings = createFleetReadings();
    const observe = (atMs: number, crash: number, operator: number) =>
      readings.observeSample(7, atMs, sampleSeries(sample(atMs, crash, operator)));
    observe(1_000, 2, 0); // a baseline
    observe(2_000, 2, 1);
    observe(3_000, 2, 3);
    expect(readings.restartsSince(0)).toEqual([{ hostId: 7, process: 'agent', instance: 'agent-1', restarts: 0 }]);
    observe(4_000, 3, 3);
    expect(readings.restartsSince(0)).toEqual([{ hostId: 7, process: 'agent', instance: 'agent-1', restarts: 1 }]);
    // Both counts are stored, each under its own series name.
    expect(new Map(sampleSeries(sample(5_000, 3, 4)))).toEqual(
      new Map([
        ['process.up:agent-1', 1],
        ['process.restarts:agent-1', 3],
        ['process.operator_restarts:agent-1', 4],
        ['process.cpu_percent:agent-1', 1],
        ['process.rss_bytes:agent-1', 1],
        ['process.threads:agent-1', 1],
      ]),
    );
  });

  it("reads a live sample's values by name (observeValues, the path every sample takes) as it reads the same pairs (observeSample)", () => {
    const byPairs = createFleetReadings();
    const byValues = createFleetReadings();
    for (const [atMs, crash, operator, memory] of [
      [1_000, 2, 0, 40],
      [2_000, 2, 1, 95],
      [3_000, 4, 3, 97],
    ] as const) {
      const pairs = [...sampleSeries(sample(atMs, crash, operator)), ['memory.used_percent', memory] as const];
      byPairs.observeSample(7, atMs, pairs);
      const values: Record<string, number> = {};
      for (const [name, value] of pairs) values[name] = value;
      byValues.observeValues(7, atMs, values);
    }
    expect(byValues.restartsSince(0)).toEqual([{ hostId: 7, process: 'agent', instance: 'agent-1', restarts: 2 }]);
    expect(byValues.restartsSince(0)).toEqual(byPairs.restartsSince(0));
    expect(byValues.latest('memory.used_percent')).toEqual([{ hostId: 7, labels: {}, value: 97, atMs: 3_000 }]);
    expect(byValues.latest('memory.used_percent')).toEqual(byPairs.latest('memory.used_percent'));
  });
});
