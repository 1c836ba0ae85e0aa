import type Database from 'better-sqlite3';
import type { HostRole } from '../../electron/contract';
import { loadInstallConfig } from '../../electron/backend/config/load-install-config';
import { createInstallCa, type InstallCa } from '../../electron/backend/pki/install-ca';
import { sealCaKey } from '../../electron/backend/pki/seal-ca-key';
import { createSecretVault } from '../../electron/backend/secrets/secret-vault';
import { createInstallsRepo, type InstallHostState } from '../../electron/backend/store/installs-repo';
import { openStore } from '../../electron/backend/store/open-store';
import { addStandInHost, seedStandInBundle } from './stand-in-rows';

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
    /** The host's own configuration layer (YAML), merged over the install's. */
    layer?: string;
  }>;
}

export function seedRecordedInstalls(db: Database.Database, installs: readonly RecordedInstallSeed[]): void {
  const bundleId = seedStandInBundle(db);
  for (const install of installs) recordInstall(db, bundleId, install);
}

/** Records one install of the bundle `bundleId`, each host with the configuration an apply would have merged for it. */
export function recordInstall(db: Database.Database, bundleId: number, install: RecordedInstallSeed): void {
  const installsRepo = createInstallsRepo(db);
  const id = installsRepo.insert(
    { name: install.name, bundleId, installFile: '/i.yaml', configSnapshot: '{}', caCert: 'PEM', caKeySecretId: null },
    5,
  );
  for (const host of install.hosts) {
    const { config } = loadInstallConfig({
      install: [{ name: 'install.yaml', text: install.config ?? '' }],
      ...(host.layer ? { host: { name: 'host.yaml', text: host.layer } } : {}),
    });
    const hostId = host.hostId ?? addStandInHost(db, host.name!, host.address!).id;
    installsRepo.upsertHost({ installId: id, hostId, role: host.role ?? 'both', gpu: false, config: JSON.stringify(config) }, 6);
    if (host.state !== undefined && host.state !== 'planned') installsRepo.setHostState(id, hostId, host.state, 7);
  }
}

/**
 * An install recorded in the data directory's store as the install engine leaves it: one host,
 * its CA certificate on the row and the CA key sealed in the vault (opened with `passphrase`).
 */
export async function recordInstallWithSealedCa(dataDir: string, passphrase: string, name: string): Promise<InstallCa> {
  const ca = await createInstallCa({ installName: name });
  const store = openStore({ dataDir });
  try {
    const vault = createSecretVault(store.db);
    vault.unlock({ kind: 'passphrase', passphrase });
    recordInstall(store.db, seedStandInBundle(store.db), { name, hosts: [{ name: 'db-1', address: '198.18.0.9' }] });
    store.db
      .prepare('UPDATE installs SET ca_cert = ?, ca_key_secret_id = ? WHERE name = ?')
      .run(ca.certPem, sealCaKey(vault, name, ca), name);
  } finally {
    store.close();
  }
  return ca;
}
