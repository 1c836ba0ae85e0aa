// The fleet's links for real: SutazAI installed on two test hosts (the real runtime, core
// and agents), a backend that keeps a link to each (one SSH session, tunnel and gRPC
// channel per host), seen through the contract (fleet.links, fleet.linkChanged). A host's
// interface goes down and comes back: its link goes offline with the reason, then online
// again, and the other host's link never moves. A host uninstalled: its link stops. A
// backend started with the vault locked: offline with the reason, online once unlocked.
// Consumers run on a link while it is up; a failing one turns it degraded, not offline.
// Another process (the command line) uninstalling a host: its link stops too.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetLink, FleetLinkChange } from '../../../electron/contract';
import { ApiError } from '../../../electron/contract';
import { createFleetLinks } from '../../../electron/backend/fleet/link/fleet-links';
import type { FleetLinks, LinkConsumer, LinkState } from '../../../electron/backend/fleet/link/link-types';
import { createSecretVault } from '../../../electron/backend/secrets/secret-vault';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { createRepositories } from '../../../electron/backend/store/repositories';
import { startInstallBackend, TEST_LINK_TIMING, VAULT_PASSPHRASE, type LabBackend } from '../../support/install-lab';
import { installLabFleet, openLabFleet } from '../../support/lab-fleet';
import { setUpSuite } from '../../support/suite-set-up';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeWaitFor } from '../../support/wait-for';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-fleet-links-');
const dataDir = path.join(tmp.path, 'data');
const INSTALL = 'linklab';
// Short enough for a test, long enough for a busy machine: a keepalive deadline of 3 s.
const TIMING = TEST_LINK_TIMING;
const waitFor = makeWaitFor({ timeoutMs: 60_000, pollMs: 100 });

let backend: LabBackend | null = null;
let hostA: TestHost;
/** Each host's runtime state directory (where it keeps its access state). */
let stateDirs: Record<string, string> = {};
let installFile: string;
const changes: FleetLinkChange[] = [];
let unsubscribe: (() => Promise<void>) | null = null;

async function startBackend(overrides: Parameters<typeof startInstallBackend>[1] = {}): Promise<LabBackend> {
  const started = await startInstallBackend(dataDir, { fleetLinks: true, linkTiming: TIMING, ...overrides });
  backend = started;
  return started;
}

async function follow(api: LabBackend['api']): Promise<void> {
  unsubscribe = await api.subscribe('fleet.linkChanged', {}, (change) => void changes.push(change));
}

async function links(): Promise<FleetLink[]> {
  return backend!.api.call('fleet.links', {});
}

function linkOf(all: FleetLink[], hostName: string): FleetLink | undefined {
  return all.find((l) => l.hostName === hostName);
}

/** Waits until the host's link is in `state` (per fleet.links), and answers it. */
function linkIn(hostName: string, state: FleetLink['state']): Promise<FleetLink> {
  return waitFor(`the link to ${hostName} ${state}`, async () => {
    const link = linkOf(await links(), hostName);
    return link?.state === state ? link : null;
  });
}

const statesOf = (from: number, hostName: string): FleetLink['state'][] =>
  changes.slice(from).flatMap((c) => (c.hostName === hostName ? [c.state] : []));

setUpSuite(
  async (defer) => {
    defer(tmp.remove);
    const fleet = await openLabFleet(defer, labRef.lab, { dir: tmp.path, bundleName: 'links', hostNames: ['link-a', 'link-b'] });
    hostA = fleet.hosts[0]!.host;
    stateDirs = { 'link-a': fleet.hosts[0]!.tree.stateDir, 'link-b': fleet.hosts[1]!.tree.stateDir };
    const api = (await startBackend()).api;
    defer(() => backend?.close());
    await follow(api);
    defer(() => unsubscribe?.());
    // Applied by the first case, which sees the links start.
    ({ installFile } = await installLabFleet(backend!, fleet, { install: INSTALL, apply: false }));
  },
  { setUpMs: 240_000, undoMs: 120_000 },
);

describe("the fleet's links", () => {
  // Two real installs in one case: on a busy machine they take longer than the default minute.
  it('has none before anything is installed, and one online link per host once the install is applied', async () => {
    expect(await links()).toEqual([]);
    const applied = await backend!.installs.apply(installFile, { concurrency: 2 });
    expect(applied.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['link-a', 'installed'],
      ['link-b', 'installed'],
    ]);
    // The apply itself started the links (it reads the installs again when it ends).
    expect((await links()).map((l) => [l.installName, l.hostName])).toEqual([
      [INSTALL, 'link-a'],
      [INSTALL, 'link-b'],
    ]);
    for (const host of ['link-a', 'link-b']) {
      const link = await linkIn(host, 'online');
      expect(link.reason).toBeNull();
      expect(link.lastSeenMs).not.toBeNull();
      // Each started connecting, from nothing, and came online.
      const own = changes.filter((c) => c.hostName === host);
      expect(own[0]).toMatchObject({ state: 'connecting', previousState: null, reason: null, removed: false });
      expect(own.map((c) => c.state)).toContain('online');
    }
  }, 240_000);

  it('pushes each runtime its access state over the link, which the runtime keeps (issue 14 item 2)', async () => {
    for (const host of ['link-a', 'link-b']) {
      const file = path.join(stateDirs[host]!, 'access-state.json');
      const kept = await waitFor(`the access state kept by ${host}`, async () =>
        fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : null,
      );
      expect(kept).toMatchObject({ install: INSTALL, authenticationMethod: 'mtls', operators: [], revokedSubjects: [] });
      expect(kept.tokenKeys).toEqual([{ keyId: expect.any(String), publicKeyPem: expect.stringContaining('BEGIN PUBLIC KEY') }]);
      // The push is a consumer of the link: had it failed, the link would be degraded with the reason.
      expect((await linkIn(host, 'online')).reason).toBeNull();
    }
  });

  it("goes offline with the reason when the host's interface goes down, and online again once it is back, the other link untouched", async () => {
    const { lab } = labRef;
    await linkIn('link-a', 'online');
    await linkIn('link-b', 'online');
    const mark = changes.length;
    // No FIN, no RST: packets to the host are lost, and only the keepalive can tell.
    await lab.exec(hostA, 'ip link set eth0 down');
    let offline: FleetLink;
    try {
      offline = await linkIn('link-a', 'offline');
    } finally {
      await lab.exec(hostA, 'ip link set eth0 up');
    }
    expect(offline.reason?.code).toBe('RUNTIME_UNREACHABLE');
    expect(offline.reason?.remedy.length).toBeGreaterThan(20);
    const back = await linkIn('link-a', 'online');
    expect(back.reason).toBeNull();

    const seen = statesOf(mark, 'link-a');
    // Down first, in order: offline, then (after a try or more) connecting, and online last.
    expect(seen[0]).toBe('offline');
    expect(seen[seen.length - 1]).toBe('online');
    expect(seen.slice(0, -1)).not.toContain('online');
    expect(seen).toContain('connecting');
    const wentDown = changes.slice(mark).find((c) => c.hostName === 'link-a')!;
    expect(wentDown).toMatchObject({ previousState: 'online', removed: false });
    expect(wentDown.reason?.message).toContain('did not answer');
    // Connecting again keeps the reason it went down for.
    const reconnecting = changes.slice(mark).find((c) => c.hostName === 'link-a' && c.state === 'connecting')!;
    expect(reconnecting.reason).not.toBeNull();
    expect(statesOf(mark, 'link-b')).toEqual([]);
  });

  it('stops the link of a host that is uninstalled, saying so, and keeps the other', async () => {
    const mark = changes.length;
    const result = await backend!.installs.uninstall(installFile, { host: 'link-b' });
    expect(result.hosts.map((h) => [h.host, h.outcome])).toEqual([['link-b', 'removed']]);
    // The uninstall read the installs again before it answered.
    expect((await links()).map((l) => l.hostName)).toEqual(['link-a']);
    const last = changes
      .slice(mark)
      .filter((c) => c.hostName === 'link-b')
      .at(-1);
    expect(last).toMatchObject({ state: 'offline', removed: true, reason: { code: 'FLEET_LINK_REMOVED' } });
    expect(statesOf(mark, 'link-a')).toEqual([]);
  });

  it('waits offline, saying why, while the vault is locked, and comes online once it is unlocked', async () => {
    await unsubscribe?.();
    await backend!.close();
    backend = null;
    const locked = await startBackend({ vaultKey: undefined });
    const waiting = await linkIn('link-a', 'offline');
    expect(waiting.reason?.code).toBe('SECRETS_LOCKED');
    expect(waiting.reason?.message).toContain('sealed secrets are locked');
    expect(waiting.reason?.remedy).toContain('link connects by itself once the vault is unlocked');
    const mark = changes.length;
    await follow(locked.api);
    await locked.api.call('secrets.unlock', { passphrase: VAULT_PASSPHRASE });
    await linkIn('link-a', 'online');
    await waitFor('the change to online to be heard', () => statesOf(mark, 'link-a').includes('online'));
    const seen = changes.slice(mark).filter((c) => c.hostName === 'link-a');
    expect(seen[0]).toMatchObject({ state: 'connecting', previousState: 'offline', reason: { code: 'SECRETS_LOCKED' } });
    expect(seen.map((c) => c.state).at(-1)).toBe('online');
  });
});

describe('consumers on a link', () => {
  let store: Store;
  let fleet: FleetLinks;

  afterAll(async () => {
    await fleet?.close();
    store?.close();
  });

  it('run while the link is up; one that fails turns the link degraded with its reason, and the connection is lent meanwhile', async () => {
    store = openStore({ dataDir });
    const repos = createRepositories(store.db);
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'passphrase', passphrase: VAULT_PASSPHRASE });
    const samples: number[] = [];
    const streaming: LinkConsumer = {
      name: 'metrics',
      async run(_target, connection, signal) {
        const stream = connection.streamMetrics(0);
        signal.addEventListener('abort', () => stream.cancel(), { once: true });
        for await (const sample of stream) samples.push(Number(sample.atMs));
      },
    };
    const failing: LinkConsumer = {
      name: 'events',
      async run(_target, connection, signal) {
        const stream = connection.tailLogs({ instance: 'no-such-instance', lines: 1, follow: true });
        signal.addEventListener('abort', () => stream.cancel(), { once: true });
        for await (const line of stream) void line;
      },
    };
    const seen: Array<[LinkState['state'], string | null]> = [];
    fleet = createFleetLinks({
      hosts: repos.hosts,
      hostKeys: repos.hostKeys,
      vault,
      installs: repos.installs,
      installRecords: repos.installRecords,
      consumers: [streaming, failing],
      now: Date.now,
      logger: { info: () => {}, warn: () => {} },
      timing: TIMING,
    });
    fleet.onChange((state) => seen.push([state.state, state.reason?.code ?? null]));
    const hostId = (await backend!.api.call('hosts.find', { host: 'link-a' })).host.id;

    // Nothing runs before refresh(), and a host with no link is refused with its own code.
    expect(fleet.states()).toEqual([]);
    expect(() => fleet.connection(hostId)).toThrow(expect.objectContaining({ code: 'FLEET_HOST_NOT_INSTALLED' }));
    await fleet.refresh();
    expect(fleet.state(hostId)?.state).toBe('connecting');
    expect(() => fleet.connection(hostId)).toThrow(expect.objectContaining({ code: 'FLEET_LINK_DOWN' }));

    const degraded = await waitFor('the link degraded by the failing consumer', () => {
      const state = fleet.state(hostId);
      return state?.state === 'degraded' ? state : null;
    });
    expect(degraded.reason).toBeInstanceOf(ApiError);
    expect(degraded.reason?.message).toContain('The events stream of host link-a');
    expect(degraded.reason?.message).toContain('PROCESS_NOT_FOUND');
    // Degraded is still up: the other consumer streams, and calls borrow the one connection.
    await waitFor('samples through the link', () => samples.length >= 2);
    expect((await fleet.connection(hostId).getInfo()).runtimeVersion).not.toBe('');
    expect(seen.slice(0, 2)).toEqual([
      ['connecting', null],
      ['online', null],
    ]);
    expect(seen.map(([state]) => state)).not.toContain('offline');

    await fleet.close();
    // Closed: no link, nothing lent, and closing again is harmless.
    expect(fleet.states()).toEqual([]);
    expect(() => fleet.connection(hostId)).toThrow(expect.objectContaining({ code: 'FLEET_HOST_NOT_INSTALLED' }));
    await fleet.close();
  });
});

describe('installs changed by another process', () => {
  it("stop the link of a host that the command line uninstalled, on the backend's next read of the installs", async () => {
    await linkIn('link-a', 'online');
    const mark = changes.length;
    // A one-shot backend on the same data directory, as the command line runs one: no links of its own.
    const cli = await startInstallBackend(dataDir, { fleetLinks: false });
    try {
      const result = await cli.installs.uninstall(installFile, { host: 'link-a' });
      expect(result.hosts.map((h) => [h.host, h.outcome])).toEqual([['link-a', 'removed']]);
      expect(await cli.api.call('fleet.links', {})).toEqual([]);
    } finally {
      await cli.close();
    }
    await waitFor('the link to link-a to be gone', async () => (await links()).length === 0);
    await waitFor('its removal to be heard', () => changes.slice(mark).some((c) => c.hostName === 'link-a' && c.removed));
    const last = changes.filter((c) => c.hostName === 'link-a').at(-1);
    expect(last).toMatchObject({ state: 'offline', removed: true, reason: { code: 'FLEET_LINK_REMOVED' } });
  });
});
