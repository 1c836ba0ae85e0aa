import type Database from 'better-sqlite3';
import type { HostRole } from '../../electron/contract';
import { loadInstallConfig } from '../../electron/backend/config/load-install-config';
import { createBundleKeysRepo } from '../../electron/backend/store/bundle-keys-repo';
import { createBundlesRepo } from '../../electron/backend/store/bundles-repo';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { createInstallsRepo, type InstallHostState } from '../../electron/backend/store/installs-repo';

/**
 * Installs as the store records them after an apply (hosts, roles, states, each host's
 * merged configuration), written straight into a store for tests of what reads them
 * (targets, pages) without installing on real hosts. The bundle and CA are stand-ins:
 * nothing here can be applied or reached.
 */
export interface RecordedInstallSeed {
  name: string;
  /** The install's own configuration layer (YAML), merged over the shipped defaults. */
  config?: string;
  hosts: Array<{
    /** A host of the inventory by id (e.g. the local machine's), or a new SSH host by name and address. */
    hostId?: number;
    name?: string;
    address?: string;
    role?: HostRole;
    state?: InstallHostState;
  }>;
}

export function seedRecordedInstalls(db: Database.Database, installs: readonly RecordedInstallSeed[]): void {
  const fingerprint = `SHA256:${'A'.repeat(43)}`;
  createBundleKeysRepo(db).trust({ fingerprint, publicKey: Buffer.alloc(32, 1), label: 'release' }, 1, 'cli');
  const bundleId = createBundlesRepo(db).insert({
    name: 'sutazai',
    version: '0.1.0',
    signerFingerprint: fingerprint,
    manifest: '{}',
    fileSha256: 'a'.repeat(64),
    size: 10,
    path: 'bundles/x',
    importedAt: 1,
  });
  const hostsRepo = createHostsRepo(db);
  const installsRepo = createInstallsRepo(db);
  for (const install of installs) {
    const id = installsRepo.insert(
      { name: install.name, bundleId, installFile: '/i.yaml', configSnapshot: '{}', caCert: 'PEM', caKeySecretId: null },
      5,
    );
    const { config } = loadInstallConfig({ install: [{ name: 'install.yaml', text: install.config ?? '' }] });
    for (const host of install.hosts) {
      const hostId =
        host.hostId ??
        hostsRepo.insertSsh(
          {
            name: host.name!,
            address: host.address!,
            port: 22,
            user: 'root',
            authMethod: 'agent',
            keyPath: null,
            secretId: null,
            sudoSecretId: null,
            jumpHostId: null,
            role: null,
            labels: [],
          },
          1,
        ).id;
      installsRepo.upsertHost({ installId: id, hostId, role: host.role ?? 'both', gpu: false, config: JSON.stringify(config) }, 6);
      if (host.state !== undefined && host.state !== 'planned') installsRepo.setHostState(id, hostId, host.state, 7);
    }
  }
}
