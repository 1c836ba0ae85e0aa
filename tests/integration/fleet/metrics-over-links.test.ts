// Metrics of an installed host, end to end: SutazAI installed on a test host (the real
// runtime with its core and agents), a backend that keeps a link to it, the metrics read
// through the contract (metrics.live, metrics.query). The host's interface goes down (no
// FIN, no RST: only the keepalive can tell) and comes back: the link goes offline then
// online, and the 1 s series over the cut holds every sample the runtime took, once, in order.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetLink, FleetLinkChange, LiveSample } from '../../../electron/contract';
import { openRuntimeConnection } from '../../../electron/backend/fleet/runtime-connection';
import type { MetricSample__Output } from '../../../agents-runtime/src/wire';
import { operatorTlsOf, startInstallBackend, TEST_LINK_TIMING, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { openLabSession } from '../../support/lab-session';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-fleet-metrics-links-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'metricslab';
const HOST_NAME = 'metrics-a';
/** The runtime's gRPC port on the host's loopback (config/defaults.yaml). */
const RUNTIME_PORT = 7600;
// Short enough for a test, long enough for a busy machine: a keepalive deadline of 3 s.
const TIMING = TEST_LINK_TIMING;
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 100 });
const CUT_MS = 60_000;

let backend: LabBackend;
let host: TestHost;
let hostId: number;

const second = (ms: number): number => Math.floor(ms / 1000) * 1000;

function linkIn(state: FleetLink['state']): Promise<FleetLink> {
  return waitFor(`the link to ${HOST_NAME} ${state}`, async () => {
    const link = (await backend.api.call('fleet.links', {})).find((l) => l.hostName === HOST_NAME);
    return link?.state === state ? link : null;
  });
}

/** Every sample the host's runtime holds from `sinceMs` to `untilMs`, read on a connection of the test's own. */
async function ringSamples(sinceMs: number, untilMs: number): Promise<MetricSample__Output[]> {
  const session = await openLabSession(host);
  try {
    const runtime = await openRuntimeConnection({ session, runtimePort: RUNTIME_PORT, tls: await operatorTlsOf(dataDir, INSTALL) });
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

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'metrics', hostNames: [HOST_NAME] });
    host = fleet.hosts[0]!.host;
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TIMING });
    defer(() => backend.close());
    hostId = (await installLabFleet(backend, fleet, { install: INSTALL })).hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

describe("an installed host's metrics through its link", () => {
  it(
    'streams live, and after the link is cut for a minute and restored the 1 s series has every sample once, in order, no gap',
    async () => {
      const { lab } = labRef;
      const pushed: LiveSample[] = [];
      const changes: FleetLinkChange[] = [];
      const stopLive = await backend.api.subscribe('metrics.live', { hostId }, (sample) => void pushed.push(sample));
      const stopChanges = await backend.api.subscribe('fleet.linkChanged', {}, (change) => void changes.push(change));
      try {
        await linkIn('online');
        await waitFor('live samples of the host', () => pushed.length >= 3);
        const firstT = pushed[0]!.t;

        // The cut: packets to the host are lost until the interface is back.
        const mark = changes.length;
        const cutAt = Date.now();
        await lab.exec(host, 'ip link set eth0 down');
        try {
          await linkIn('offline');
          // Held for the minute: well inside the runtime's 15-minute ring, so all of it comes back.
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + CUT_MS - Date.now())));
        } finally {
          await lab.exec(host, 'ip link set eth0 up');
        }
        await linkIn('online');
        const backAt = Date.now();
        // Same clock on both ends in the lab: a sample taken after the link came back ends the backfill.
        await waitFor('live samples after the cut', () => (pushed.at(-1)?.t ?? 0) > backAt);
        const lastT = pushed.at(-1)!.t;

        expect(changes.slice(mark).filter((c) => c.hostName === HOST_NAME)[0]?.state).toBe('offline');
        expect(
          changes
            .slice(mark)
            .filter((c) => c.hostName === HOST_NAME)
            .at(-1)?.state,
        ).toBe('online');

        // Every sample the runtime took over that span reached the store and the page, once, in order.
        const ring = await ringSamples(firstT, lastT);
        const pushedTimes = pushed.filter((sample) => sample.t <= lastT).map((sample) => sample.t);
        expect(pushedTimes).toEqual(ring.map((sample) => Number(sample.atMs)));

        // The 1 s tier read through the contract: one point per sampled second, the runtime's values, a process series too.
        const instance = ring[0]!.instances.find((i) => i.pid !== 0)!.instance;
        const result = await backend.api.call('metrics.query', {
          hostId,
          metrics: ['cpu.percent', `process.up:${instance}`],
          fromMs: firstT,
          toMs: lastT,
        });
        expect(result.tier).toBe('1s');
        const bySecond = new Map<number, MetricSample__Output>();
        for (const sample of ring) bySecond.set(second(Number(sample.atMs)), sample);
        const [cpu, up] = result.series;
        expect(cpu!.points.map(([t]) => t)).toEqual([...bySecond.keys()]);
        expect(cpu!.points.map(([, mean]) => mean)).toEqual([...bySecond.values()].map((sample) => sample.host!.cpuPercent));
        expect(up!.metric).toBe(`process.up:${instance}`);
        expect(up!.points.length).toBeGreaterThan(0);
        // The cut is inside the span: the store holds the seconds the link was down for.
        expect(cpu!.points.some(([t]) => t > cutAt + 10_000 && t < cutAt + CUT_MS - 10_000)).toBe(true);
      } finally {
        await stopLive();
        await stopChanges();
      }
      // The minute's cut, the link's way back, and a busy machine.
    },
    CUT_MS + 120_000,
  );
});
