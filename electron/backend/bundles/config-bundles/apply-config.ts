import { ApiError, type ConfigReviewItem } from '../../../contract';
import { PRIVATE_KEY_PURPOSE } from '../../hosts/build-ssh-target';
import { caKeyPurpose } from '../../pki/seal-ca-key';
import type { SecretVault } from '../../secrets/secret-vault';
import { secretName, type ConfigDocument, type ExportedHost, type ExportedSecrets } from './config-document';
import { configImportBlockedError, configImportNewerReleaseError } from './config-bundle-errors';
import { itemId, newerRelease, type ReviewStore } from './review-config';

export interface ApplyOutcome {
  applied: string[];
  left: Array<{ id: string; reason: string }>;
}

/**
 * Which reviewed items an import applies. `all` takes every new and changed item and leaves
 * conflicts (they must be chosen one by one, on purpose) and blocked items, each listed with
 * why; a list names items, and one that cannot be applied refuses the whole import.
 */
export function chooseItems(
  items: readonly ConfigReviewItem[],
  chosen: 'all' | readonly string[],
): { apply: ConfigReviewItem[]; left: ApplyOutcome['left'] } {
  const left: ApplyOutcome['left'] = [];
  if (chosen === 'all') {
    const apply = items.filter((i) => i.status === 'new' || i.status === 'changed');
    for (const i of items) {
      if (i.status === 'unchanged') left.push({ id: i.id, reason: 'unchanged' });
      else if (i.status === 'conflict') left.push({ id: i.id, reason: `conflict, not chosen: ${i.reason ?? ''}` });
      else if (i.status === 'blocked') left.push({ id: i.id, reason: `blocked: ${i.reason ?? ''}` });
    }
    return { apply, left };
  }
  const byId = new Map(items.map((i) => [i.id, i]));
  const unknown = chosen.filter((id) => !byId.has(id));
  if (unknown.length) {
    throw new ApiError(
      'BAD_PARAMS',
      `The file has no item ${unknown.slice(0, 5).join(', ')}.`,
      'Choose items by the ids the review lists (such as host:db-1 or install:prod).',
    );
  }
  const wanted = new Set(chosen);
  const apply: ConfigReviewItem[] = [];
  for (const i of items) {
    if (!wanted.has(i.id)) left.push({ id: i.id, reason: 'not chosen' });
    else if (i.status === 'unchanged') left.push({ id: i.id, reason: 'unchanged' });
    else if (i.status === 'blocked') throw configImportBlockedError(i.id, i.reason ?? 'it is blocked');
    else apply.push(i);
  }
  return { apply, left };
}

/**
 * Applies the chosen items to the store; the caller runs it inside one transaction, so an
 * error anywhere leaves the store as it was. Hosts first (jump hosts by name once all
 * exist), then their keys, then installs, whose hosts must exist by then.
 */
export function applyItems(
  store: ReviewStore,
  vault: SecretVault,
  document: ConfigDocument,
  secrets: ExportedSecrets | null,
  chosen: readonly ConfigReviewItem[],
  now: number,
  source: string,
): string[] {
  const ids = new Set(chosen.map((i) => i.id));
  const applied: string[] = [];

  for (const key of document.bundleSigningKeys) {
    if (!ids.has(itemId('bundle-key', key.fingerprint))) continue;
    store.bundleKeys.trust(
      { fingerprint: key.fingerprint, publicKey: Buffer.from(key.publicKey, 'base64'), label: key.label },
      now,
      source,
    );
    applied.push(itemId('bundle-key', key.fingerprint));
  }

  const hosts = document.hosts.filter((host) => ids.has(itemId('host', host.name)));
  for (const host of hosts) applyHost(store, vault, host, secrets, now);
  for (const host of hosts) {
    const jumpHostId = host.jump === null ? null : (store.hosts.findByName(host.jump)?.id ?? null);
    if (host.jump !== null && jumpHostId === null)
      throw configImportBlockedError(itemId('host', host.name), `its jump host ${host.jump} is not chosen`);
    store.hosts.update(store.hosts.findByName(host.name)!.id, { jumpHostId }, now);
    applied.push(itemId('host', host.name));
  }

  for (const host of document.hosts) {
    if (!host.hostKey || !ids.has(itemId('host-key', host.name))) continue;
    const row = store.hosts.findByName(host.name);
    if (!row) throw configImportBlockedError(itemId('host-key', host.name), `its host ${host.name} is not here and not chosen`);
    const { type, fingerprint, publicKey } = host.hostKey;
    store.hostKeys.pin(row.id, { keyType: type, fingerprint, publicKey: Buffer.from(publicKey, 'base64') }, now, source);
    applied.push(itemId('host-key', host.name));
  }

  for (const install of document.installs) {
    const id = itemId('install', install.name);
    if (!ids.has(id)) continue;
    const bundle = store.bundles.bySha256(install.bundle.sha256);
    if (!bundle)
      throw configImportBlockedError(id, `its release bundle ${install.bundle.name} ${install.bundle.version} is not imported here`);
    let local = store.installs.findByName(install.name);
    if (local) {
      const newer = newerRelease(store, local.id, install.bundle.version);
      if (newer) throw configImportNewerReleaseError(install.name, newer, install.bundle.version);
      if (local.caCert !== install.caCert) throw configImportBlockedError(id, 'its certificate authority differs from the one here');
    }
    const hostIds = install.hosts.map((h) => {
      const row = store.hosts.findByName(h.host);
      if (!row) throw configImportBlockedError(id, `its host ${h.host} is not here and not chosen`);
      return row.id;
    });
    const caKey = secrets?.[secretName.installCaKey(install.name)];
    const sameCaKey =
      caKey !== undefined && local?.caKeySecretId != null && vault.reveal(local.caKeySecretId, caKeyPurpose(install.name)) === caKey;
    const caKeySecretId = caKey === undefined || sameCaKey ? null : vault.store(caKeyPurpose(install.name), caKey, now);
    const row = { bundleId: bundle.id, installFile: install.installFile, configSnapshot: JSON.stringify(install.configSnapshot) };
    if (!local) {
      store.installs.insert({ name: install.name, ...row, caCert: install.caCert, caKeySecretId }, now);
      local = store.installs.findByName(install.name)!;
    } else {
      store.installs.update(local.id, row, now);
      if (caKeySecretId !== null) replaceCaKey(store, vault, local.id, local.caKeySecretId, caKeySecretId);
    }
    if (install.definition !== null) store.installs.setDefinition(local.id, JSON.stringify(install.definition));
    const keep = new Set(hostIds);
    for (const old of store.installs.hosts(local.id)) if (!keep.has(old.hostId)) store.installs.removeHost(local.id, old.hostId);
    install.hosts.forEach((h, index) => {
      const hostId = hostIds[index]!;
      store.installs.upsertHost({ installId: local.id, hostId, role: h.role, gpu: h.gpu, config: JSON.stringify(h.config) }, now);
      store.installs.setHostState(local.id, hostId, h.state, now);
      if (h.mode && h.rootDir && h.service)
        store.installs.setPlacement(local.id, hostId, { mode: h.mode, rootDir: h.rootDir, service: h.service }, now);
      const present = store.installs.host(local.id, hostId)!.createdPaths;
      store.installs.removeCreatedPaths(
        local.id,
        hostId,
        present.filter((p) => !h.createdPaths.includes(p)),
        now,
      );
      store.installs.addCreatedPaths(local.id, hostId, h.createdPaths, now);
      // What the hosts run, as the file recorded it (absent in older files: left as it is here).
      if (h.releases !== undefined) store.hostReleases.replace(hostId, local.id, h.releases, now);
    });
    applied.push(id);
  }
  return applied;
}

function applyHost(store: ReviewStore, vault: SecretVault, host: ExportedHost, secrets: ExportedSecrets | null, now: number): void {
  const login = secrets?.[secretName.hostLogin(host.name)];
  const sudo = secrets?.[secretName.hostSudo(host.name)];
  // A key stored as text travels only sealed, with the secrets; a host given a key file instead loses it.
  const privateKey = host.auth === 'key' && host.keyPath === null ? secrets?.[secretName.hostKey(host.name)] : undefined;
  const loginPurpose = `${host.auth === 'password' ? 'password' : 'passphrase'}:${host.name}`;
  const fields = {
    address: host.address,
    port: host.port,
    user: host.user,
    authMethod: host.auth,
    keyPath: host.keyPath,
    role: host.role,
    labels: [...host.labels],
  };
  const existing = store.hosts.findByName(host.name);
  if (!existing) {
    store.hosts.insertSsh(
      {
        name: host.name,
        ...fields,
        secretId: login === undefined ? null : vault.store(loginPurpose, login, now),
        sudoSecretId: sudo === undefined ? null : vault.store(`sudo:${host.name}`, sudo, now),
        keySecretId: privateKey === undefined ? null : vault.store(PRIVATE_KEY_PURPOSE, privateKey, now),
        jumpHostId: null,
      },
      now,
    );
    return;
  }
  store.hosts.update(existing.id, fields, now);
  if (login !== undefined && (existing.secretId === null || vault.reveal(existing.secretId) !== login)) {
    store.hosts.update(existing.id, { secretId: vault.store(loginPurpose, login, now) }, now);
    if (existing.secretId !== null) vault.remove(existing.secretId);
  }
  const keepsStoredKey = host.auth === 'key' && host.keyPath === null;
  if (existing.keySecretId !== null && !keepsStoredKey) {
    store.hosts.update(existing.id, { keySecretId: null }, now);
    vault.remove(existing.keySecretId);
  }
  if (
    privateKey !== undefined &&
    (existing.keySecretId === null || vault.reveal(existing.keySecretId, PRIVATE_KEY_PURPOSE) !== privateKey)
  ) {
    store.hosts.update(existing.id, { keySecretId: vault.store(PRIVATE_KEY_PURPOSE, privateKey, now) }, now);
    if (existing.keySecretId !== null) vault.remove(existing.keySecretId);
  }
  if (sudo !== undefined && (existing.sudoSecretId === null || vault.reveal(existing.sudoSecretId) !== sudo)) {
    store.hosts.update(existing.id, { sudoSecretId: vault.store(`sudo:${host.name}`, sudo, now) }, now);
    if (existing.sudoSecretId !== null) vault.remove(existing.sudoSecretId);
  }
}

function replaceCaKey(store: ReviewStore, vault: SecretVault, installId: number, old: number | null, next: number): void {
  store.installs.setCaKeySecret(installId, next);
  if (old !== null) vault.remove(old);
}
