import { expect } from 'vitest';
import type { MetricSample__Output } from '../../agents-runtime/src/wire';
import type { ApiClient } from '../../electron/contract';
import { openRuntimeConnection } from '../../electron/backend/fleet/runtime-connection';
import { operatorTlsOf } from './install-lab';
import { openLabSession } from './lab-session';
import type { TestHost } from './test-hosts/test-hosts';

/** The runtime's gRPC port on the host's loopback (config/defaults.yaml). */
const RUNTIME_PORT = 7600;

const second = (ms: number): number => Math.floor(ms / 1000) * 1000;

/**
 * Every sample an installed host's runtime holds from `sinceMs` to `untilMs`, read from its
 * ring buffer on a connection of the test's own (not the backend's link): what the store
 * must hold after a cut.
 */
export async function ringSamples(
  host: TestHost,
  install: { dataDir: string; name: string },
  sinceMs: number,
  untilMs: number,
): Promise<MetricSample__Output[]> {
  const session = await openLabSession(host);
  try {
    const tls = await operatorTlsOf(install.dataDir, install.name);
    const runtime = await openRuntimeConnection({ session, runtimePort: RUNTIME_PORT, tls });
    try {
      const got: MetricSample__Output[] = [];
      for await (const sample of runtime.streamMetrics(sinceMs)) {
        if (Number(sample.atMs) > untilMs) break;
        got.push(sample);
        if (Number(sample.atMs) === untilMs) break;
      }
      return got;
    } finally {
      await runtime.close();
    }
  } finally {
    session.close();
  }
}

/**
 * The 1 s tier read through the contract over the ring's span holds one point per sampled
 * second with the runtime's own values, in order: no gap, no duplicate. Answers the CPU
 * series' times, for the caller's own checks on where the cut was.
 */
export async function expectSeriesAsRing(api: ApiClient, hostId: number, ring: readonly MetricSample__Output[]): Promise<number[]> {
  expect(ring.length).toBeGreaterThan(1);
  const fromMs = Number(ring[0]!.atMs);
  const toMs = Number(ring.at(-1)!.atMs);
  const instance = ring[0]!.instances.find((i) => i.pid !== 0)!.instance;
  const result = await api.call('metrics.query', { hostId, metrics: ['cpu.percent', `process.up:${instance}`], fromMs, toMs });
  expect(result.tier).toBe('1s');
  const bySecond = new Map<number, MetricSample__Output>();
  for (const sample of ring) bySecond.set(second(Number(sample.atMs)), sample);
  const [cpu, up] = result.series;
  expect(cpu!.points.map(([t]) => t)).toEqual([...bySecond.keys()]);
  expect(cpu!.points.map(([, mean]) => mean)).toEqual([...bySecond.values()].map((sample) => sample.host!.cpuPercent));
  expect(up!.metric).toBe(`process.up:${instance}`);
  expect(up!.points.length).toBeGreaterThan(0);
  return cpu!.points.map(([t]) => t);
}
