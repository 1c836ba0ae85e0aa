// The link-history analyzer on readings made for real (issue 15, item 4): SutazAI installed on
// a test host, the backend's link to its runtime cut three times by taking the host's
// interface down (each time the link goes offline, then online again once the interface is
// back), then the host's support bundle collected and saved by the backend and analyzed. The
// analyzer sees the three outages the link recorded, in order, and none still open.
// (support-analyzers plants its readings for the other analyzers: memory over 90 % and a
// certificate ending within 30 days cannot be made on a test host in a test's time.)
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetEvent, FleetLink } from '../../../electron/contract';
import { startInstallBackend, TEST_LINK_TIMING, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-support-link-history-');
const dataDir = path.join(tmp.path, 'data');
const HOST = 'cut-host';
const INSTALL = 'cutlab';
const CUTS = 3;
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 200 });

let backend: LabBackend;
let host: TestHost;
let hostId = 0;

async function linkState(): Promise<FleetLink['state'] | undefined> {
  return (await backend.api.call('fleet.links', {})).find((l) => l.hostName === HOST)?.state;
}

/** The host's link events, oldest first. */
async function linkEvents(): Promise<FleetEvent[]> {
  const all: FleetEvent[] = [];
  let page = await backend.api.call('events.list', { hostId, kinds: ['link.down', 'link.up'] });
  for (;;) {
    all.push(...page.events);
    if (page.next === null) break;
    page = await backend.api.call('events.list', { hostId, kinds: ['link.down', 'link.up'], after: page.next });
  }
  return all.reverse();
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'link-history', hostNames: [HOST] });
    ({ host } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TEST_LINK_TIMING });
    defer(() => backend.close());
    hostId = (await installLabFleet(backend, fleet, { install: INSTALL })).hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

describe('the link-history analyzer on outages the link really had', () => {
  it(`finds the ${CUTS} times the host's interface was taken down, in a bundle the backend collected`, async () => {
    const { lab } = labRef;
    await waitFor('the link online', async () => (await linkState()) === 'online');
    for (let cut = 1; cut <= CUTS; cut++) {
      await lab.exec(host, 'ip link set eth0 down');
      try {
        await waitFor(`link.down ${cut} stored`, async () => (await linkEvents()).filter((e) => e.kind === 'link.down').length === cut);
      } finally {
        await lab.exec(host, 'ip link set eth0 up');
      }
      await waitFor(`the link online after cut ${cut}`, async () => (await linkState()) === 'online');
      await waitFor(`link.up after cut ${cut} stored`, async () => (await linkEvents()).at(-1)?.kind === 'link.up');
    }
    // Each outage recorded as a down then an up (a first up when the link came up at the start).
    expect((await linkEvents()).map((e) => e.kind).filter((kind, i, all) => kind !== all[i - 1])).toEqual([
      'link.up',
      ...Array.from({ length: CUTS }, () => ['link.down', 'link.up']).flat(),
    ]);

    const collected = await backend.api.call('support.collect', { target: { hostId } });
    const file = path.join(tmp.path, 'cut-support.tar');
    await backend.api.call('support.save', { previewId: collected.previewId, redaction: {}, path: file });
    const analysis = await backend.api.call('support.analyze', { path: file });
    const link = analysis.findings.filter((f) => f.analyzer === 'link-history');
    expect(link).toHaveLength(1);
    expect(link[0]!.severity).toBe('warning');
    expect(link[0]!.summary).toMatch(new RegExp(`^${HOST}'s link went down ${CUTS} times, down \\d+ min in all, the longest \\d+ min$`));
    expect(link[0]!.remedy).toMatch(/network path/);
  }, 400_000);
});
