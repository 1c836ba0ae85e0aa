// The fleet's events through the backend as it runs: SutazAI installed on a test host (the
// real runtime, core and agents), a backend with the host's link, its events read through
// the contract (events.list). The link coming up and going down are events; an agent
// killed with kill -9 while the host's interface is down is a crash event with its last
// lines once the link is back (read from the runtime's ring), and the runtime's events
// are whole across the cut: nothing lost, nothing twice.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeIdFor } from '../../../agents-runtime/src/daemon/daemon-lock';
import type { FleetEvent, FleetLink } from '../../../electron/contract';
import { queryStore, startInstallBackend, TEST_LINK_TIMING, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import type { HostTree } from '../../support/release-lab';
import { instanceLeaders } from '../../support/runtime-daemon-harness';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-fleet-link-events-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'eventlab';
const HOST = 'ev-a';
const TIMING = TEST_LINK_TIMING;
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 100 });

let backend: LabBackend;
let host: TestHost;
let tree: HostTree;

/** Every event of the host through the contract, oldest first. */
async function events(kinds?: string[]): Promise<FleetEvent[]> {
  const all: FleetEvent[] = [];
  let page = await backend.api.call('events.list', { ...(kinds ? { kinds } : {}) });
  for (;;) {
    all.push(...page.events.filter((e) => e.hostName === HOST));
    if (page.next === null) break;
    page = await backend.api.call('events.list', { ...(kinds ? { kinds } : {}), after: page.next });
  }
  return all.reverse();
}

async function linkState(): Promise<FleetLink['state'] | undefined> {
  return (await backend.api.call('fleet.links', {})).find((l) => l.hostName === HOST)?.state;
}

/** The runtime events' sequences per run, as stored. */
function sequencesByRun(): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const { key } of queryStore<{ key: string }>(
    dataDir,
    "SELECT dedup_key AS key FROM fleet_events WHERE origin = 'runtime' ORDER BY id",
  )) {
    const [, , run, sequence] = key.split(':');
    runs.set(run!, [...(runs.get(run!) ?? []), Number(sequence)]);
  }
  return runs;
}

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'events', hostNames: [HOST] });
    ({ host, tree } = fleet.hosts[0]!);
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TIMING });
    defer(() => backend.close());
    await installLabFleet(backend, fleet, { install: INSTALL });
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

describe('fleet events through the backend and its links', () => {
  it("records the link coming up and what the host's runtime reports, with the install and host named", async () => {
    await waitFor('the link online', async () => (await linkState()) === 'online');
    const up = await waitFor('a link.up event', async () => (await events(['link.up']))[0]);
    expect(up).toMatchObject({ origin: 'link', installName: INSTALL, hostName: HOST, actor: null });
    const coreRunning = await waitFor('the runtime’s core running, as an event', async () =>
      (await events(['process.state'])).find((e) => e.process === 'core' && e.state === 'running'),
    );
    expect(coreRunning).toMatchObject({ origin: 'runtime', installName: INSTALL, hostName: HOST });
  });

  it('a cut link goes down and up as events, and an agent killed during the cut is a crash with its last lines afterwards', async () => {
    const { lab } = labRef;
    const leaders = instanceLeaders(runtimeIdFor(tree.stateDir));
    const agent = [...leaders.keys()].filter((name) => name.startsWith('agent')).sort()[0]!;
    expect(agent).toBeDefined();
    const before = (await events()).at(-1)!.id;

    await lab.exec(host, 'ip link set eth0 down');
    try {
      await waitFor('the link offline', async () => (await linkState()) === 'offline');
      // The runtime goes on without the link: this crash is only in its ring until the link is back.
      process.kill(leaders.get(agent)![0]!, 'SIGKILL');
      await waitFor('the agent restarted by the runtime', () => {
        const now = instanceLeaders(runtimeIdFor(tree.stateDir)).get(agent);
        return now !== undefined && now[0] !== leaders.get(agent)![0];
      });
    } finally {
      await lab.exec(host, 'ip link set eth0 up');
    }
    await waitFor('the link online again', async () => (await linkState()) === 'online');

    const crash = await waitFor('the crash, read back after the cut', async () =>
      (await events(['process.exit'])).find((e) => e.id > before && e.instance === agent),
    );
    expect(crash.message).toContain('killed by SIGKILL');
    expect(crash.lastLines.length).toBeGreaterThan(0);
    const links = (await events(['link.up', 'link.down', 'link.degraded'])).filter((e) => e.id > before);
    // Down, then up, in that order (a stream may notice the cut before the keepalive: degraded first).
    expect(links.map((e) => e.kind).filter((kind) => kind !== 'link.degraded')).toEqual(['link.down', 'link.up']);
    expect(links.at(-1)?.kind).toBe('link.up');
    const down = links.find((e) => e.kind === 'link.down')!;
    expect(down.error?.code).toBe('RUNTIME_UNREACHABLE');
    expect(down.error?.remedy.length).toBeGreaterThan(20);
    // One run of the runtime, its events whole from 1: nothing lost in the cut, nothing twice.
    const runs = sequencesByRun();
    expect(runs.size).toBe(1);
    const sequences = [...runs.values()][0]!;
    expect([...sequences].sort((a, b) => a - b)).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
  });
});
