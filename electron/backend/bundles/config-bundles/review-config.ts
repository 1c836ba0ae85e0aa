import type { ConfigReviewItem } from '../../../contract';
import type { SecretVault } from '../../secrets/secret-vault';
import { compareVersions, parseVersion } from '../version-range';
import {
  secretName,
  type ConfigDocument,
  type ExportedHost,
  type ExportedInstall,
  type ExportedRelease,
  type ExportedSecrets,
  type ExportedSiteFile,
} from './config-document';
import { reviewOperators } from './config-operators';
import type { SiteFilePlace } from './site-files';
import { exportHost, exportInstall, type ConfigStore } from './store-document';

export type ReviewStore = ConfigStore;

/** Shown instead of a secret's value: the review says that it changes, never what it is. */
const SEALED = '(sealed)';

/**
 * The document item by item against what this store holds now: new, changed (field by
 * field), unchanged, conflict (a host of the same name at another address; a host key other
 * than the pinned one; an install here running a newer release) or blocked (its release
 * bundle or a host is missing here). Secrets are compared only when the file's were opened.
 * `backendLogins` false (an import from a browser, web mode): a host that would log in with a
 * key file or the SSH agent of the backend's machine is blocked (host-login rule, page-path-fields.ts).
 */
export function reviewDocument(
  store: ReviewStore,
  vault: SecretVault,
  document: ConfigDocument,
  secrets: ExportedSecrets | null,
  sitePlace: (file: ExportedSiteFile) => SiteFilePlace,
  options: { backendLogins: boolean } = { backendLogins: true },
): ConfigReviewItem[] {
  const items: ConfigReviewItem[] = [];
  const inFile = new Set(document.hosts.map((host) => host.name));

  for (const key of document.bundleSigningKeys) {
    // A key is its fingerprint; its label is the signer's hint, so a trusted key is never relabelled by an import.
    const trusted = store.bundleKeys.get(key.fingerprint) !== null;
    items.push(
      item(
        'bundle-key',
        key.fingerprint,
        trusted ? 'unchanged' : 'new',
        trusted ? [] : [{ field: 'label', from: '', to: key.label }],
        null,
      ),
    );
  }

  for (const host of document.hosts) {
    const local = store.hosts.findByName(host.name);
    if (local?.kind === 'local') {
      items.push(item('host', host.name, 'blocked', [], 'this name is the machine the control center runs on'));
      continue;
    }
    const jumpMissing = host.jump !== null && !inFile.has(host.jump) && !store.hosts.findByName(host.jump);
    if (!local) {
      const changes = fieldChanges(null, host);
      if (secrets?.[secretName.hostLogin(host.name)] !== undefined) changes.push({ field: 'login secret', from: '', to: SEALED });
      if (secrets?.[secretName.hostSudo(host.name)] !== undefined) changes.push({ field: 'sudo password', from: '', to: SEALED });
      if (secrets?.[secretName.hostKey(host.name)] !== undefined) changes.push({ field: 'private key', from: '', to: SEALED });
      items.push(
        item(
          'host',
          host.name,
          jumpMissing ? 'blocked' : 'new',
          changes,
          jumpMissing ? `its jump host ${host.jump} is neither here nor in the file` : null,
        ),
      );
    } else {
      const current = exportHost(store, local);
      const changes = fieldChanges(current, host);
      changes.push(...secretChanges(vault, secrets, secretName.hostLogin(host.name), local.secretId, 'login secret'));
      changes.push(...secretChanges(vault, secrets, secretName.hostSudo(host.name), local.sudoSecretId, 'sudo password'));
      changes.push(...secretChanges(vault, secrets, secretName.hostKey(host.name), local.keySecretId, 'private key'));
      if (jumpMissing)
        items.push(item('host', host.name, 'blocked', changes, `its jump host ${host.jump} is neither here nor in the file`));
      else if (current.address !== host.address) {
        items.push(
          item(
            'host',
            host.name,
            'conflict',
            changes,
            `a host named ${host.name} here is at ${current.address}, the file has ${host.address}`,
          ),
        );
      } else items.push(item('host', host.name, changes.length ? 'changed' : 'unchanged', changes, null));
    }
    const backendLogin = options.backendLogins ? null : backendLoginOf(host);
    const reviewed = items.at(-1)!;
    // Unchanged: nothing of it is applied. Anything else would set the backend's key file or agent from a page.
    if (backendLogin !== null && reviewed.status !== 'unchanged' && reviewed.status !== 'blocked')
      items[items.length - 1] = {
        ...reviewed,
        status: 'blocked',
        reason: `${backendLogin}, which an import from a browser (web mode) may not set: import the rest, then add or edit ${host.name} on the Hosts page with its private key pasted (Private key: Paste key); or import this file with the sutazai command or the desktop app on the backend machine`,
      };
    if (host.hostKey) {
      const pinned = local ? store.hostKeys.get(local.id) : null;
      const change = { field: 'fingerprint', from: pinned?.fingerprint ?? '', to: host.hostKey.fingerprint };
      // A key follows its host: never pinned to a host here at another address, nor waiting on a host that cannot come.
      const hostItem = items.at(-1)!;
      if (!pinned && hostItem.status === 'conflict')
        items.push(item('host-key', host.name, 'conflict', [change], `it is the key of ${host.address}; ${hostItem.reason}`));
      else if (!pinned && !local && hostItem.status === 'blocked')
        items.push(item('host-key', host.name, 'blocked', [change], `its host cannot be imported: ${hostItem.reason}`));
      else if (!pinned) items.push(item('host-key', host.name, 'new', [change], null));
      else if (pinned.fingerprint === host.hostKey.fingerprint) items.push(item('host-key', host.name, 'unchanged', [], null));
      else {
        items.push(
          item(
            'host-key',
            host.name,
            'conflict',
            [change],
            `HOST KEY DIFFERS: ${host.name} is pinned here to ${pinned.fingerprint}, the file says ${host.hostKey.fingerprint}; a changed host key can mean another machine answers at that address. Import it only after checking the key on the host itself.`,
          ),
        );
      }
    }
  }

  // A host in the file that cannot be imported is as missing as one the file lacks.
  const blockedHosts = new Set(items.filter((i) => i.kind === 'host' && i.status === 'blocked').map((i) => i.name));
  for (const install of document.installs) {
    const bundle = store.bundles.bySha256(install.bundle.sha256);
    const missingHosts = install.hosts
      .map((h) => h.host)
      .filter((name) => !store.hosts.findByName(name) && (!inFile.has(name) || blockedHosts.has(name)));
    const local = store.installs.findByName(install.name);
    const blocked = !bundle
      ? `its release bundle ${install.bundle.name} ${install.bundle.version} (SHA-256 ${install.bundle.sha256.slice(0, 12)}…) is not imported here: import that bundle first`
      : missingHosts.length
        ? `its hosts ${missingHosts.join(', ')} are neither here nor importable from the file`
        : null;
    const secretChange = local
      ? secretChanges(vault, secrets, secretName.installCaKey(install.name), local.caKeySecretId, 'CA key')
      : secrets?.[secretName.installCaKey(install.name)] !== undefined
        ? [{ field: 'CA key', from: '', to: SEALED }]
        : [];
    if (!local) {
      items.push(
        item(
          'install',
          install.name,
          blocked ? 'blocked' : 'new',
          [...fieldChanges(null, withoutReleases(install)), ...releaseChanges(null, install), ...secretChange],
          blocked,
        ),
      );
      continue;
    }
    const current = exportInstall(store, local);
    const changes = [
      ...fieldChanges(withoutReleases(current), withoutReleases(install)),
      ...releaseChanges(current, install),
      ...secretChange,
    ];
    const newer = newerRelease(store, local.id, install.bundle.version);
    if (newer) {
      items.push(
        item(
          'install',
          install.name,
          'conflict',
          changes,
          `it runs release ${newer} here, newer than the ${install.bundle.version} in the file: it cannot be imported`,
        ),
      );
    } else if (current.caCert !== install.caCert) {
      items.push(
        item(
          'install',
          install.name,
          'conflict',
          changes,
          `its certificate authority differs from the one here, which its runtimes trust: it cannot be imported over it`,
        ),
      );
    } else if (blocked) items.push(item('install', install.name, 'blocked', changes, blocked));
    else items.push(item('install', install.name, changes.length ? 'changed' : 'unchanged', changes, null));
  }
  items.push(
    ...reviewOperators(store, document, fieldChanges, (name, status, changes, reason) => item('operator', name, status, changes, reason)),
  );
  for (const file of document.siteFiles) {
    const place = sitePlace(file);
    const current = place.text;
    const lines = (text: string) => `${text.split('\n').length} lines`;
    if (place.blocked !== null) {
      items.push(item('site-file', siteFileName(file), 'blocked', [{ field: 'text', from: '', to: lines(file.text) }], place.blocked));
      continue;
    }
    const status = current === null ? 'new' : current === file.text ? 'unchanged' : 'changed';
    const changes = status === 'unchanged' ? [] : [{ field: 'text', from: current === null ? '' : lines(current), to: lines(file.text) }];
    items.push(item('site-file', siteFileName(file), status, changes, null));
  }
  return items;
}

/**
 * A plain YAML export is signed by no one: whoever handed it over could have written any key
 * into it. So the keys it would newly trust (a host key to pin, a release bundle signing key,
 * which lets releases run as root on the hosts) are conflicts there: shown with their
 * fingerprints, never applied by "all", applied when chosen by id. In a signed bundle the
 * exporter's fingerprint, checked once, vouches for them.
 */
export function holdUnsignedKeys(items: readonly ConfigReviewItem[]): ConfigReviewItem[] {
  return items.map((i) => {
    if (i.status !== 'new' || (i.kind !== 'host-key' && i.kind !== 'bundle-key')) return i;
    const what =
      i.kind === 'host-key'
        ? `pin it only after checking the key on ${i.name} itself`
        : 'trust it only after comparing its fingerprint with the release publisher’s';
    return { ...i, status: 'conflict', reason: `an unsigned file (a YAML export) names this key, and nothing vouches for it: ${what}` };
  });
}

/** An install's hosts without their releases: those are compared host by host (releaseChanges), not as one clipped line. */
function withoutReleases(install: ExportedInstall): ExportedInstall {
  return { ...install, hosts: install.hosts.map(({ releases: _releases, ...host }) => host) };
}

/** `0.2.0 (current), 0.1.0 (previous)`; a different bundle under the same version is said too. */
function showReleases(releases: readonly ExportedRelease[]): string {
  return releases.map((r) => `${r.version} (${r.state})`).join(', ');
}

/**
 * The releases each host of the install has, here against the file, one change per host that
 * differs (`releases on core-1`). A file without releases (written before they were exported)
 * says nothing about them.
 */
function releaseChanges(current: ExportedInstall | null, next: ExportedInstall): ConfigReviewItem['changes'] {
  const changes: ConfigReviewItem['changes'] = [];
  for (const host of next.hosts) {
    if (host.releases === undefined) continue;
    const here = current?.hosts.find((h) => h.host === host.host)?.releases ?? [];
    const same =
      here.length === host.releases.length &&
      here.every((r, i) => {
        const other = host.releases![i]!;
        return r.version === other.version && r.state === other.state && r.bundleSha256 === other.bundleSha256 && r.path === other.path;
      });
    if (same) continue;
    const from = showReleases(here);
    let to = showReleases(host.releases);
    if (from === to) to += ' (another bundle or path)';
    changes.push({ field: `releases on ${host.host}`, from: clip(from), to: clip(to) });
  }
  return changes;
}

export function siteFileName(file: Pick<ExportedSiteFile, 'folder' | 'name'>): string {
  return `${file.folder}/${file.name}`;
}

/** The newest release a host of the install runs now, when it is newer than `version`. */
export function newerRelease(store: ReviewStore, installId: number, version: string): string | null {
  const inFile = parseVersion(version);
  if (!inFile) return null;
  let newest: string | null = null;
  for (const row of store.installs.hosts(installId)) {
    const current = store.hostReleases.current(row.hostId);
    const parsed = current ? parseVersion(current.version) : null;
    if (parsed && compareVersions(parsed, inFile) > 0 && (newest === null || compareVersions(parsed, parseVersion(newest)!) > 0)) {
      newest = current!.version;
    }
  }
  return newest;
}

/** How the host would log in on the backend's machine itself (its key file, its SSH agent); null for neither. */
function backendLoginOf(host: ExportedHost): string | null {
  if (host.keyPath !== null) return `its login is the key file ${JSON.stringify(host.keyPath.slice(0, 200))} on the backend's machine`;
  if (host.auth === 'agent') return "its login is the SSH agent of the backend's machine";
  return null;
}

export function itemId(kind: ConfigReviewItem['kind'], name: string): string {
  return `${kind}:${name}`;
}

function item(
  kind: ConfigReviewItem['kind'],
  name: string,
  status: ConfigReviewItem['status'],
  changes: ConfigReviewItem['changes'],
  reason: string | null,
): ConfigReviewItem {
  return { id: itemId(kind, name), kind, name, status, changes, reason };
}

/** Field by field, each value as one line of text (lists and objects as compact JSON); a host's key is its own item. */
function fieldChanges(current: object | null, next: object): ConfigReviewItem['changes'] {
  const changes: ConfigReviewItem['changes'] = [];
  for (const [field, value] of Object.entries(next)) {
    if (field === 'hostKey' || field === 'name') continue;
    const to = show(value);
    // A new item lists what it sets; an empty field says nothing.
    if (current === null) {
      if (to !== '' && to !== '[]' && to !== '{}') changes.push({ field, from: '', to: clip(to) });
      continue;
    }
    const from = show((current as Record<string, unknown>)[field]);
    if (from !== to) changes.push({ field, from: clip(from), to: clip(to) });
  }
  return changes;
}

/** A whole configuration snapshot is one field: the review line shows its start; the file has the rest. */
const MAX_SHOWN = 240;

function clip(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function secretChanges(
  vault: SecretVault,
  secrets: ExportedSecrets | null,
  name: string,
  localId: number | null,
  field: string,
): ConfigReviewItem['changes'] {
  const value = secrets?.[name];
  if (value === undefined) return [];
  if (localId === null) return [{ field, from: '', to: SEALED }];
  return vault.reveal(localId) === value ? [] : [{ field, from: SEALED, to: `${SEALED}, different` }];
}
