// An installed host's link when its sshd stops and starts again (not its interface: the
// connection is closed by the host and every try to open it again is refused), and what
// goes through the link while it is up: SutazAI installed on a test host (the real runtime,
// its core and agents), a backend that keeps a link to it. While the link is up, the
// installed-health check asks through it, and an apply's look at the host, its changed
// manifest and its health gate go through it (the job's log says so); a process without
// links (a one-shot command) and the check while the link is down use a connection of their
// own and say why. The sshd is stopped for a minute while metrics stream and started again:
// the link goes offline (refused) and online, each an event, the runtime runs on, and the 1 s
// series holds every sample once, in order. Last, an apply that restarts the runtime under
// the link passes its gate and names the way it asked.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FleetEvent, FleetLink, FleetLinkChange, LiveSample } from '../../../electron/contract';
import { queryStore, startInstallBackend, TEST_LINK_TIMING, writeLabInstallFile, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet, type LabFleet, type LabFleetHost } from '../../support/lab-fleet';
import { expectSeriesAsRing, ringSamples } from '../../support/metric-ring';
import { daemonPid } from '../../support/release-lab';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import { pidsInNamespaces, terminate } from '../../support/test-hosts/kill-processes';
import { SSHD } from '../../support/test-hosts/sshd';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-fleet-sshd-restart-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'sshdlab';
const HOST_NAME = 'sshd-a';
const waitFor = makeWaitFor({ timeoutMs: 90_000, pollMs: 100 });
const CUT_MS = 60_000;

let backend: LabBackend;
let fleet: LabFleet;
let lab: LabFleetHost;
let hostId: number;

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'sshd', hostNames: [HOST_NAME] });
    lab = fleet.hosts[0]!;
    // A test that failed with the sshd stopped leaves it stopped: started again before the runtime is stopped over SSH.
    defer(() => labRef.lab.startHost(lab.host));
    backend = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TEST_LINK_TIMING });
    defer(() => backend.close());
    hostId = (await installLabFleet(backend, fleet, { install: INSTALL })).hostIds[0]!;
  },
  { setUpMs: 300_000, undoMs: 120_000 },
);

function linkOf(state: FleetLink['state'], also: (link: FleetLink) => boolean = () => true): Promise<FleetLink> {
  return waitFor(`the link to ${HOST_NAME} ${state}`, async () => {
    const link = (await backend.api.call('fleet.links', {})).find((l) => l.hostName === HOST_NAME);
    return link?.state === state && also(link) ? link : null;
  });
}

/**
 * The install file with the core's log level (a change the running runtime takes without a
 * restart) and, where given, the runtime's rotated files kept (one it restarts for).
 */
function installFileWith(logLevel: 'info' | 'warn', keepFiles?: number): string {
  return writeLabInstallFile(fleet.dir, {
    name: INSTALL,
    bundle: fleet.bundle,
    values: { core: { log_level: logLevel }, ...(keepFiles === undefined ? {} : { runtime: { logs: { keep_files: keepFiles } } }) },
    hosts: [{ name: HOST_NAME, installValues: lab.tree.values }],
  });
}

/** A step's output as the store keeps it for the job's log. */
function stepOutput(step: 'connect' | 'start' | 'health'): string {
  return queryStore<{ output: string }>(
    dataDir,
    'SELECT output FROM install_steps WHERE host_id = ? AND step = ? ORDER BY finished_at DESC LIMIT 1',
    hostId,
    step,
  )[0]!.output;
}

/** The host's sshd: the listening server and one process per connection. */
function sshdPids(): number[] {
  return pidsInNamespaces([lab.host.namespace]).filter((pid) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/exe`) === SSHD;
    } catch {
      return false;
    }
  });
}

/** Every link event of the host after `afterId`, oldest first. */
async function linkEvents(afterId: number): Promise<FleetEvent[]> {
  const page = await backend.api.call('events.list', { kinds: ['link.up', 'link.down', 'link.degraded'] });
  return page.events.filter((e) => e.hostName === HOST_NAME && e.id > afterId).reverse();
}

describe('an installed host whose sshd stops and starts again', () => {
  it('asks its health and sends it a changed manifest through its link; a process without links uses its own connection, and says so', async () => {
    await linkOf('online');
    const health = await backend.api.call('installs.health', { name: INSTALL });
    expect(health.hosts[0]).toMatchObject({
      host: HOST_NAME,
      reachable: true,
      healthy: true,
      via: { kind: 'fleet-link', note: `asked through the fleet link of ${HOST_NAME}` },
    });

    const runtimePid = daemonPid(lab.tree.stateDir);
    const applied = await backend.installs.apply(installFileWith('warn'));
    expect(applied.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    expect(applied.hosts[0]!.steps.find((s) => s.step === 'start')!.detail).toMatch(
      /^the runtime \(pid \d+\) keeps running and takes the new manifest: restarts core/,
    );
    expect(stepOutput('start')).toContain(`UpdateManifest sent over the fleet link of ${HOST_NAME} (its SSH connection)`);
    // The look at the host and the health gate went through the link too, and the job's log says so.
    const overLink = `over the fleet link of ${HOST_NAME} (its SSH connection)`;
    expect(stepOutput('connect')).toContain(`\nthe look at the host asked the runtime ${overLink}`);
    expect(stepOutput('health').split('\n')[0]).toBe(applied.hosts[0]!.steps.find((s) => s.step === 'health')!.detail);
    expect(stepOutput('health')).toContain(`\nasked the runtime ${overLink}`);
    expect(daemonPid(lab.tree.stateDir)).toBe(runtimePid);

    // A one-shot command's backend keeps no links: its own connection, and why, in the answer and the job's log.
    const cli = await startInstallBackend(dataDir, { fleetLinks: false });
    try {
      const own = await cli.api.call('installs.health', { name: INSTALL });
      expect(own.hosts[0]).toMatchObject({
        reachable: true,
        healthy: true,
        via: { kind: 'own-connection', note: 'asked over an SSH connection of its own: this process keeps no fleet links' },
      });
      const back = await cli.installs.apply(installFileWith('info'));
      expect(back.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
      expect(stepOutput('start')).toContain(
        `UpdateManifest sent over this apply's own SSH connection to ${HOST_NAME}: this process keeps no fleet links`,
      );
      const ownWay = `over this apply's own SSH connection to ${HOST_NAME}: this process keeps no fleet links`;
      expect(stepOutput('connect')).toContain(`\nthe look at the host asked the runtime ${ownWay}`);
      expect(stepOutput('health')).toContain(`\nasked the runtime ${ownWay}`);
    } finally {
      await cli.close();
    }
    expect(daemonPid(lab.tree.stateDir)).toBe(runtimePid);
  }, 240_000);

  it(
    'goes offline then online with events, the runtime runs on, and the 1 s series over the minute has every sample once, in order',
    async () => {
      const pushed: LiveSample[] = [];
      const changes: FleetLinkChange[] = [];
      const stopLive = await backend.api.subscribe('metrics.live', { hostId }, (sample) => void pushed.push(sample));
      const stopChanges = await backend.api.subscribe('fleet.linkChanged', {}, (change) => void changes.push(change));
      try {
        await linkOf('online');
        await waitFor('live samples of the host', () => pushed.length >= 3);
        const firstT = pushed[0]!.t;
        const runtimePid = daemonPid(lab.tree.stateDir);
        expect(runtimePid).not.toBeNull();
        const before = (await backend.api.call('events.list', {})).events[0]?.id ?? 0;
        const mark = changes.length;

        // The stop: the server and every connection it serves end; the host keeps its address and its runtime.
        const cutAt = Date.now();
        const sshd = sshdPids();
        expect(sshd.length).toBeGreaterThan(1);
        expect(await terminate(sshd)).toEqual([]);
        try {
          // Offline, and then refused: the link tried again and nothing listens on port 22.
          const down = await linkOf('offline', (link) => link.reason?.code === 'CONNECTION_REFUSED');
          expect(down.reason!.remedy.length).toBeGreaterThan(20);
          // Meanwhile the health check has no link to go through: its own try is refused too, and it says why.
          const health = await backend.api.call('installs.health', { name: INSTALL });
          expect(health.hosts[0]).toMatchObject({ reachable: false, error: { code: 'CONNECTION_REFUSED' } });
          expect(health.hosts[0]!.via).toMatchObject({ kind: 'own-connection' });
          expect(health.hosts[0]!.via!.note).toMatch(
            /^asked over an SSH connection of its own: its fleet link is (offline|connecting) \(.*refused/,
          );
          // Held for the minute: well inside the runtime's 15-minute ring, so all of it comes back.
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + CUT_MS - Date.now())));
        } finally {
          // The harness starts the server again once it saw it end (a start while it still runs is none).
          await waitFor('the sshd serving again', async () => {
            await labRef.lab.startHost(lab.host);
            return sshdPids().length > 0;
          });
        }
        await linkOf('online');
        const backAt = Date.now();
        // Same clock on both ends in the lab: a sample taken after the link came back ends the backfill.
        await waitFor('live samples after the cut', () => (pushed.at(-1)?.t ?? 0) > backAt);
        const lastT = pushed.at(-1)!.t;
        // The runtime never depended on sshd: the same process throughout.
        expect(daemonPid(lab.tree.stateDir)).toBe(runtimePid);
        expect(fs.existsSync(`/proc/${runtimePid}`)).toBe(true);

        // Offline first, online last, as pushed to windows and as events in the store (a stream may
        // notice the closed connection before the keepalive does: degraded first).
        const ours = changes.slice(mark).filter((c) => c.hostName === HOST_NAME && c.state !== 'degraded');
        expect(ours[0]?.state).toBe('offline');
        expect(ours.at(-1)?.state).toBe('online');
        const events = await waitFor('the link’s way back as an event', async () => {
          const found = await linkEvents(before);
          return found.at(-1)?.kind === 'link.up' ? found : null;
        });
        expect(events.map((e) => e.kind).filter((kind) => kind !== 'link.degraded')).toEqual(['link.down', 'link.up']);
        const down = events.find((e) => e.kind === 'link.down')!;
        expect(down).toMatchObject({ origin: 'link', installName: INSTALL });
        expect(down.error?.remedy.length).toBeGreaterThan(20);

        // Every sample the runtime took over that span reached the page and the store, once, in order.
        const ring = await ringSamples(lab.host, { dataDir, name: INSTALL }, firstT, lastT);
        expect(pushed.filter((sample) => sample.t <= lastT).map((sample) => sample.t)).toEqual(ring.map((sample) => Number(sample.atMs)));
        const seconds = await expectSeriesAsRing(backend.api, hostId, ring);
        // The stop is inside the span: the store holds the seconds sshd was down for.
        expect(seconds.some((t) => t > cutAt + 10_000 && t < cutAt + CUT_MS - 10_000)).toBe(true);
      } finally {
        await stopLive();
        await stopChanges();
      }
    },
    // The minute's stop, the link's way back, and a busy machine.
    CUT_MS + 150_000,
  );

  it("passes the health gate of an apply that restarts the runtime under its link, and the job's log says which way it asked", async () => {
    await linkOf('online');
    const runtimePid = daemonPid(lab.tree.stateDir);
    const applied = await backend.installs.apply(installFileWith('info', 5));
    expect(applied.hosts[0]).toMatchObject({ outcome: 'installed', error: null });
    expect(applied.hosts[0]!.steps.find((s) => s.step === 'start')!.detail).not.toMatch(/keeps running/);
    expect(daemonPid(lab.tree.stateDir)).not.toBe(runtimePid);
    // The look came before the restart, while the link was up.
    expect(stepOutput('connect')).toContain(
      `\nthe look at the host asked the runtime over the fleet link of ${HOST_NAME} (its SSH connection)`,
    );
    // The restart takes the link's streams down with the old runtime: the gate asked over the link
    // if it stayed up and the new runtime answered there first, else over the apply's own
    // connection, saying why; either way it names the one that answered.
    const via = /^asked the runtime (.+)$/m.exec(stepOutput('health'))?.[1];
    expect(via).toMatch(
      new RegExp(`^over (the fleet link of ${HOST_NAME} \\(its SSH connection\\)|this apply's own SSH connection to ${HOST_NAME}: .+)$`),
    );
    await linkOf('online');
  }, 240_000);
});
