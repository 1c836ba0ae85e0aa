import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../electron/contract';
import { loadProfiles } from '../../../electron/backend/preflight/load-profiles';
import { createPreflightService, installedReleaseOf } from '../../../electron/backend/preflight/preflight-service';
import { createFactsRepo } from '../../../electron/backend/store/facts-repo';
import { createHostReleasesRepo } from '../../../electron/backend/store/host-releases-repo';
import { createHostsRepo } from '../../../electron/backend/store/hosts-repo';
import { createInstallsRepo } from '../../../electron/backend/store/installs-repo';
import { createPreflightRepo } from '../../../electron/backend/store/preflight-repo';
import { openMemoryStore } from '../../support/memory-store';
import { addStandInHost, seedStandInBundle } from '../../support/stand-in-rows';

const GiB = 1024 ** 3;
const profiles = loadProfiles(path.resolve(__dirname, '../../../config'));

/** A healthy core host whose listeners are the core's own ports (7700, 7701) and sshd. */
const facts: HostFacts = {
  probedAt: 1_000,
  source: 'ssh',
  os: {
    platform: 'linux',
    family: 'debian',
    distro: 'Debian GNU/Linux',
    release: '12',
    codename: 'bookworm',
    kernel: '6.1',
    arch: 'x64',
    hostname: 'core-1',
    id: 'debian',
  },
  cpu: { model: 'EPYC', vendor: 'AMD', sockets: 1, cores: 8, threads: 16, speedGhz: 3, flags: [] },
  memory: { totalBytes: 64 * GiB, swapTotalBytes: 0 },
  disks: [],
  filesystems: [{ device: '/dev/sda1', type: 'ext4', mount: '/', sizeBytes: 500 * GiB, usedBytes: 10 * GiB, availableBytes: 490 * GiB }],
  gpus: [],
  network: [],
  unknown: [],
  listeningPorts: [
    { address: '0.0.0.0', port: 22 },
    { address: '127.0.0.1', port: 7700 },
    { address: '127.0.0.1', port: 7701 },
  ],
};

let db: Database.Database;
let hostId: number;
beforeEach(() => {
  db = openMemoryStore();
  hostId = addStandInHost(db, 'core-1', '10.0.0.5').id;
  createFactsRepo(db).save(hostId, facts);
});
afterEach(() => db.close());

function service() {
  const hosts = createHostsRepo(db);
  return createPreflightService({
    profiles: () => profiles,
    host: (id) => hosts.get(id)!,
    latestFacts: (id) => createFactsRepo(db).latest(id),
    installedRelease: installedReleaseOf(createHostReleasesRepo(db), createInstallsRepo(db)),
    results: createPreflightRepo(db),
    now: () => 2_000,
  });
}

describe('preflight of a host this app installed', () => {
  it('fails a host where something else holds the core ports', () => {
    const ports = service()
      .run([hostId], 'core')
      .hosts[0]!.checks.find((c) => c.id === 'ports.free')!;
    expect(ports).toMatchObject({ outcome: 'fail', message: 'Port(s) 7700, 7701 already have a listener.' });
  });

  it('passes, with a note, the ports its own installed runtime holds', () => {
    const bundleId = seedStandInBundle(db);
    const installs = createInstallsRepo(db);
    const installId = installs.insert(
      { name: 'lab', bundleId, installFile: '/i.yaml', configSnapshot: '{}', caCert: 'PEM', caKeySecretId: null },
      5,
    );
    installs.upsertHost({ installId, hostId, role: 'core', gpu: false, config: '{}' }, 6);
    createHostReleasesRepo(db).markCurrent({
      hostId,
      installId,
      version: '0.1.0',
      bundleSha256: 'a'.repeat(64),
      path: '/opt/sutazai/releases/0.1.0',
      installedAt: 7,
    });

    const report = service().run([hostId], 'core');
    const ports = report.hosts[0]!.checks.find((c) => c.id === 'ports.free')!;
    expect(ports.outcome).toBe('pass');
    expect(ports.message).toBe(
      'Port(s) 7700, 7701 have a listener: SutazAI 0.1.0 (install lab) runs on this host, and its runtime holds them. Apply checks that each listener is its own before it starts.',
    );
  });
});
