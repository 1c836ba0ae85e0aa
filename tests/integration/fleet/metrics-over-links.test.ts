// Metrics of an installed host, end to end: SutazAI installed on a test host (the real
// runtime with its core and agents), a backend that keeps a link to it, the metrics read
// through the contract (metrics.live, metrics.query). The host's interface goes down (no
// FIN, no RST: only the keepalive can tell) and comes back: the link goes offline then
// online, and the 1 s series over the cut holds every sample the runtime took, once, in order.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetLink, FleetLinkChange, LiveSample } from '../../../electron/contract';
import { startInstallBackend, TEST_LINK_TIMING, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { expectSeriesAsRing, ringSamples } from '../../support/metric-ring';
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
// Short enough for a test, long enough for a busy machine: a keepalive deadline of 3 s.
const TIMING = TEST_LINK_TIMING;
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 100 });
const CUT_MS = 60_000;

let backend: LabBackend;
let host: TestHost;
let hostId: number;

function linkIn(state: FleetLink['state']): Promise<FleetLink> {
  return waitFor(`the link to ${HOST_NAME} ${state}`, async () => {
    const link = (await backend.api.call('fleet.links', {})).find((l) => l.hostName === HOST_NAME);
    return link?.state === state ? link : null;
  });
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
        const ring = await ringSamples(host, { dataDir, name: INSTALL }, firstT, lastT);
        const pushedTimes = pushed.filter((sample) => sample.t <= lastT).map((sample) => sample.t);
        expect(pushedTimes).toEqual(ring.map((sample) => Number(sample.atMs)));

        // The 1 s tier read through the contract: one point per sampled second, the runtime's values, a process series too.
        const seconds = await expectSeriesAsRing(backend.api, hostId, ring);
        // The cut is inside the span: the store holds the seconds the link was down for.
        expect(seconds.some((t) => t > cutAt + 10_000 && t < cutAt + CUT_MS - 10_000)).toBe(true);
      } finally {
        await stopLive();
        await stopChanges();
      }
      // The minute's cut, the link's way back, and a busy machine.
    },
    CUT_MS + 120_000,
  );
});
