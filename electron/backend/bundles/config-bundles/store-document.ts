import { ApiError } from '../../../contract';
import { PRIVATE_KEY_PURPOSE } from '../../hosts/build-ssh-target';
import { caKeyPurpose } from '../../pki/seal-ca-key';
import type { SecretVault } from '../../secrets/secret-vault';
import type { BundleKeysRepo } from '../../store/bundle-keys-repo';
import type { BundlesRepo } from '../../store/bundles-repo';
import type { OperatorsRepo } from '../../operators/operators-repo';
import type { HostKeysRepo } from '../../store/host-keys-repo';
import type { HostReleaseRow, HostReleasesRepo } from '../../store/host-releases-repo';
import type { HostRow, HostsRepo } from '../../store/hosts-repo';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import {
  CONFIG_DOCUMENT_FORMAT,
  secretName,
  type ConfigDocument,
  type ExportedBundleKey,
  type ExportedHost,
  type ExportedInstall,
  type ExportedOperator,
  type ExportedRelease,
  type ExportedSecrets,
  type ExportedSiteFile,
} from './config-document';

/** The store's tables an export reads and an import writes. */
export interface ConfigStore {
  hosts: HostsRepo;
  hostKeys: HostKeysRepo;
  installs: InstallsRepo;
  bundles: BundlesRepo;
  bundleKeys: BundleKeysRepo;
  hostReleases: HostReleasesRepo;
  operators: OperatorsRepo;
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A host as an export writes it (also the form an import compares field by field). */
export function exportHost(store: ConfigStore, host: HostRow): ExportedHost {
  const pinned = store.hostKeys.get(host.id);
  return {
    name: host.name,
    address: host.address,
    port: host.port,
    user: host.user,
    auth: host.authMethod,
    keyPath: host.keyPath,
    jump: host.jumpHostId === null ? null : (store.hosts.get(host.jumpHostId)?.name ?? null),
    role: host.role,
    labels: [...host.labels],
    hostKey: pinned ? { type: pinned.keyType, fingerprint: pinned.fingerprint, publicKey: pinned.publicKey.toString('base64') } : null,
  };
}

export function exportInstall(store: ConfigStore, install: InstallRow): ExportedInstall {
  const bundle = store.bundles.get(install.bundleId);
  if (!bundle) throw new Error(`install ${install.name} names bundle ${install.bundleId}, which is not in the store`);
  return {
    name: install.name,
    bundle: { name: bundle.name, version: bundle.version, sha256: bundle.fileSha256 },
    installFile: install.installFile,
    configSnapshot: parseObject(install.configSnapshot),
    definition: install.definition === null ? null : parseObject(install.definition),
    caCert: install.caCert,
    hosts: store.installs
      .hosts(install.id)
      .map((row) => ({
        host: store.hosts.get(row.hostId)?.name ?? `#${row.hostId}`,
        role: row.role,
        gpu: row.gpu,
        state: row.state,
        mode: row.mode,
        rootDir: row.rootDir,
        service: row.service,
        createdPaths: [...row.createdPaths],
        config: parseObject(row.config),
        releases: installReleases(store, install.id, row.hostId),
      }))
      .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)),
  };
}

/** The releases an install has on a host, current first, then as the store orders them (newest first). */
export function installReleases(store: ConfigStore, installId: number, hostId: number): ExportedRelease[] {
  const rows = store.hostReleases.ofHost(hostId).filter((r) => r.installId === installId);
  const rank = (r: HostReleaseRow) => (r.state === 'current' ? 0 : 1);
  return rows
    .map((r, order) => ({ r, order }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.order - b.order)
    .map(({ r }) => ({ version: r.version, bundleSha256: r.bundleSha256, path: r.path, state: r.state }));
}

export function exportOperators(store: ConfigStore): ExportedOperator[] {
  return store.operators
    .list()
    .map(({ name, role, attributes, disabled }) => ({ name, role, attributes, disabled }))
    .sort(byName);
}

/**
 * The document for one install (its hosts, the jump hosts they go through, the key that
 * signed its bundle) or, without a name, for the whole inventory; the site's rule files either way. Sorted by name throughout,
 * so the same store gives the same document.
 */
export function storeDocument(store: ConfigStore, installName: string | null, siteFiles: readonly ExportedSiteFile[]): ConfigDocument {
  const installs =
    installName === null ? store.installs.names().map((name) => store.installs.findByName(name)!) : [requireInstall(store, installName)];
  let hosts: HostRow[];
  if (installName === null) {
    hosts = store.hosts.list().filter((host) => host.kind === 'ssh');
  } else {
    const ids = new Set<number>();
    const addWithJumps = (id: number) => {
      for (let at: number | null = id; at !== null && !ids.has(at); at = store.hosts.get(at)?.jumpHostId ?? null) ids.add(at);
    };
    for (const row of store.installs.hosts(installs[0]!.id)) addWithJumps(row.hostId);
    hosts = [...ids].map((id) => store.hosts.get(id)!).filter((host) => host.kind === 'ssh');
  }
  const signers = new Set(installs.map((install) => store.bundles.get(install.bundleId)?.signerFingerprint));
  const keys: ExportedBundleKey[] = store.bundleKeys
    .list()
    .filter((key) => installName === null || signers.has(key.fingerprint))
    .map((key) => ({ fingerprint: key.fingerprint, label: key.label, publicKey: key.publicKey.toString('base64') }))
    .sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  return {
    sutazai_config: CONFIG_DOCUMENT_FORMAT,
    hosts: hosts.map((host) => exportHost(store, host)).sort(byName),
    installs: installs.map((install) => exportInstall(store, install)).sort(byName),
    bundleSigningKeys: keys,
    siteFiles: [...siteFiles],
    operators: exportOperators(store),
  };
}

/** The clear secrets of the document's hosts and installs, from the vault (which must be open). */
export function storeSecrets(store: ConfigStore, vault: SecretVault, document: ConfigDocument): ExportedSecrets {
  vault.requireUnlocked();
  const secrets: ExportedSecrets = {};
  for (const { name } of document.hosts) {
    const host = store.hosts.findByName(name);
    if (host?.secretId != null) secrets[secretName.hostLogin(name)] = vault.reveal(host.secretId);
    if (host?.sudoSecretId != null) secrets[secretName.hostSudo(name)] = vault.reveal(host.sudoSecretId);
    if (host?.keySecretId != null) secrets[secretName.hostKey(name)] = vault.reveal(host.keySecretId, PRIVATE_KEY_PURPOSE);
  }
  for (const { name } of document.installs) {
    const install = store.installs.findByName(name);
    if (install?.caKeySecretId != null) secrets[secretName.installCaKey(name)] = vault.reveal(install.caKeySecretId, caKeyPurpose(name));
  }
  return secrets;
}

function requireInstall(store: ConfigStore, name: string): InstallRow {
  const install = store.installs.findByName(name);
  if (!install) {
    throw new ApiError(
      'NOT_FOUND',
      `There is no install named ${name}.`,
      'Pick one of the installs this control center lists, or export the whole inventory.',
      {
        cliRemedy: 'See `sutazai installs list` for the names, or leave out --install to export the whole inventory.',
      },
    );
  }
  return install;
}

function parseObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
