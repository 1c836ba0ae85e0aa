import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../../electron/backend/bundles/config-bundles/config-bundle-file';
import { configDocumentToYaml, parseConfigDocument } from '../../../electron/backend/bundles/config-bundles/config-yaml';
import { createHostKeysRepo } from '../../../electron/backend/store/host-keys-repo';
import { createHostReleasesRepo } from '../../../electron/backend/store/host-releases-repo';
import { codeOf } from '../../support/api-pipes';
import { closeConfigSite, fileSha256, startConfigSite, type ConfigSite } from '../../support/config-sites';
import { recordInstall } from '../../support/recorded-installs';
import { revealHostSecret } from '../../support/sealed-secrets';
import { seedStandInBundle } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Configuration bundles and YAML exports against real stores: a site's backend exports, a
 * fresh data directory's backend reviews and imports, and what comes out again is compared
 * with what went in (issue 15, items 1-3).
 */

const VAULT = 'vault passphrase for the site';
const EXPORT_PASSPHRASE = 'four unrelated words here';
const DB_PASSWORD = 'db-1 login password 7Qz';
const SUDO_PASSWORD = 'db-1 sudo password 9Xk';
const DISK_RULE = 'rules:\n  - name: disk-nearly-full\n    expr: disk_used_percent > 90\n    for: 5m\n';

type Site = ConfigSite;

const scratch = makeTempDir('sutazai-config-bundle-');
const sites: Site[] = [];

async function startSite(name: string): Promise<Site> {
  const site = await startConfigSite(path.join(scratch.path, name), VAULT);
  sites.push(site);
  return site;
}

const out = (name: string) => path.join(scratch.path, name);
const sha = fileSha256;
const KEY_A = {
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:dbOneHostKeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  publicKey: Buffer.alloc(51, 7),
};
const KEY_B = {
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:anotherMachineBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  publicKey: Buffer.alloc(51, 9),
};

async function hostNames(site: Site): Promise<string[]> {
  const hosts = await site.api.call('hosts.list', {});
  return hosts.map((h) => h.name).sort();
}

function pinnedFingerprint(site: Site, host: string): string | null {
  const row = site.db.prepare('SELECT k.fingerprint FROM host_keys k JOIN hosts h ON h.id = k.host_id WHERE h.name = ?').get(host) as
    { fingerprint: string } | undefined;
  return row?.fingerprint ?? null;
}

function tableCounts(site: Site): Record<string, number> {
  const tables = ['hosts', 'host_keys', 'secrets', 'installs', 'install_hosts', 'bundle_signing_keys', 'trusted_exporters'];
  return Object.fromEntries(tables.map((t) => [t, (site.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
}

let origin: Site;

beforeAll(async () => {
  origin = await startSite('origin');
  const bastion = await origin.api.call('hosts.add', { name: 'bastion', address: '198.18.40.1', user: 'ops', auth: { method: 'agent' } });
  await origin.api.call('hosts.add', {
    name: 'db-1',
    address: '198.18.40.2',
    port: 2222,
    user: 'sutazai',
    auth: { method: 'password', password: DB_PASSWORD },
    sudoPassword: SUDO_PASSWORD,
    jumpHostId: bastion.id,
    role: 'core',
    labels: ['rack=b4', 'tier=db'],
  });
  await origin.api.call('hosts.add', { name: 'web-1', address: '198.18.40.3', user: 'sutazai', auth: { method: 'agent' }, role: 'agent' });
  const db1 = origin.db.prepare("SELECT id FROM hosts WHERE name = 'db-1'").get() as { id: number };
  createHostKeysRepo(origin.db).pin(db1.id, KEY_A, 5, 'test');
  // The site's own alert rule, beside the shipped ones.
  fs.mkdirSync(path.join(origin.dir, 'alerts'));
  fs.writeFileSync(path.join(origin.dir, 'alerts', 'disk.yaml'), DISK_RULE);
  recordInstall(origin.db, seedStandInBundle(origin.db), {
    name: 'prod',
    config: 'runtime:\n  grpc_port: 7443\n',
    hosts: [
      { name: 'core-1', address: '198.18.40.4', role: 'core', state: 'installed' },
      { name: 'agent-1', address: '198.18.40.5', role: 'agent', state: 'installed' },
    ],
  });
}, 120_000);

afterAll(async () => {
  for (const site of sites) await closeConfigSite(site);
  scratch.remove();
});

describe('plain YAML export', () => {
  it('round-trips byte for byte through a fresh data directory, with no secrets in it', async () => {
    const first = await origin.api.call('configBundles.export', { path: out('first.yaml'), format: 'yaml' });
    expect(first).toMatchObject({ format: 'yaml', hosts: 5, installs: 1, bundleKeys: 1, siteFiles: 1, secrets: 0, signedBy: null });
    const text = fs.readFileSync(out('first.yaml'), 'utf8');
    expect(text).not.toContain(DB_PASSWORD);
    expect(text).toContain('rack=b4');
    // Deterministic: the same store exports the same bytes again.
    await origin.api.call('configBundles.export', { path: out('again.yaml'), format: 'yaml' });
    expect(fs.readFileSync(out('again.yaml'), 'utf8')).toBe(text);

    const fresh = await startSite('yaml-fresh');
    seedStandInBundle(fresh.db);
    const review = await fresh.api.call('configBundles.review', { path: out('first.yaml') });
    expect(review.exporter).toBeNull();
    // A host key from an unsigned file is a conflict: shown, never pinned by "all".
    expect(review.items.map((i) => `${i.status} ${i.id}`)).toEqual(
      expect.arrayContaining([
        'new host:db-1',
        'conflict host-key:db-1',
        'new install:prod',
        'unchanged bundle-key:SHA256:' + 'A'.repeat(43),
      ]),
    );
    expect(review.items.find((i) => i.id === 'host-key:db-1')!.reason).toContain('unsigned file');
    const imported = await fresh.api.call('configBundles.import', {
      path: out('first.yaml'),
      sha256: sha(out('first.yaml')),
      items: 'all',
    });
    expect(imported.applied).toContain('install:prod');
    expect(imported.left).toContainEqual({ id: 'host-key:db-1', reason: expect.stringContaining('conflict, not chosen') });
    expect(pinnedFingerprint(fresh, 'db-1')).toBeNull();
    // Chosen by id, on purpose: then it is pinned, and the store exports the same bytes.
    await fresh.api.call('configBundles.import', { path: out('first.yaml'), sha256: sha(out('first.yaml')), items: ['host-key:db-1'] });
    await fresh.api.call('configBundles.export', { path: out('second.yaml'), format: 'yaml' });
    expect(fs.readFileSync(out('second.yaml'), 'utf8')).toBe(text);
    expect(pinnedFingerprint(fresh, 'db-1')).toBe(KEY_A.fingerprint);
    expect(imported.applied).toContain('site-file:alerts/disk.yaml');
    expect(fs.readFileSync(path.join(fresh.dir, 'alerts', 'disk.yaml'), 'utf8')).toBe(DISK_RULE);
  });

  it('keeps a host key with its host: never pinned to a host here at another address, never failing "all" when its host is blocked', async () => {
    const text = fs.readFileSync(out('first.yaml'), 'utf8');

    const elsewhere = await startSite('yaml-key-host-elsewhere');
    await elsewhere.api.call('hosts.add', { name: 'db-1', address: '198.18.99.9', user: 'ops', auth: { method: 'agent' } });
    const review = await elsewhere.api.call('configBundles.review', { path: out('first.yaml') });
    expect(review.items.find((i) => i.id === 'host:db-1')!.status).toBe('conflict');
    const key = review.items.find((i) => i.id === 'host-key:db-1')!;
    expect(key.status).toBe('conflict');
    expect(key.reason).toContain('198.18.99.9');
    const all = await elsewhere.api.call('configBundles.import', { path: out('first.yaml'), sha256: sha(out('first.yaml')), items: 'all' });
    expect(all.left).toContainEqual({ id: 'host-key:db-1', reason: expect.stringContaining('conflict, not chosen') });
    expect(pinnedFingerprint(elsewhere, 'db-1')).toBeNull();
    // A release signing key from an unsigned file is never trusted by "all" either.
    expect(all.left).toContainEqual({
      id: `bundle-key:SHA256:${'A'.repeat(43)}`,
      reason: expect.stringContaining('conflict, not chosen: an unsigned file'),
    });
    expect(tableCounts(elsewhere).bundle_signing_keys).toBe(0);

    const noJump = text.replace('jump: bastion', 'jump: nowhere');
    expect(noJump).not.toBe(text);
    fs.writeFileSync(out('no-jump.yaml'), noJump);
    const blocked = await startSite('yaml-key-host-blocked');
    const imported = await blocked.api.call('configBundles.import', {
      path: out('no-jump.yaml'),
      sha256: sha(out('no-jump.yaml')),
      items: 'all',
    });
    expect(imported.left).toContainEqual({ id: 'host:db-1', reason: expect.stringContaining('blocked: its jump host nowhere') });
    expect(imported.left).toContainEqual({ id: 'host-key:db-1', reason: expect.stringContaining('blocked: its host cannot be imported') });
    expect(imported.applied).toContain('host:web-1');
    expect(await hostNames(blocked)).not.toContain('db-1');
  });

  it('blocks an install whose host in the file is blocked, so "all" imports the rest', async () => {
    const document = parseConfigDocument(fs.readFileSync(out('first.yaml'), 'utf8'), 'first.yaml');
    const core = document.hosts.find((h) => h.name === 'core-1')!;
    core.jump = 'nowhere';
    fs.writeFileSync(out('core-blocked.yaml'), configDocumentToYaml(document));
    const site = await startSite('yaml-install-host-blocked');
    seedStandInBundle(site.db);
    const review = await site.api.call('configBundles.review', { path: out('core-blocked.yaml') });
    const install = review.items.find((i) => i.id === 'install:prod')!;
    expect(install.status).toBe('blocked');
    expect(install.reason).toContain('core-1');
    const imported = await site.api.call('configBundles.import', {
      path: out('core-blocked.yaml'),
      sha256: sha(out('core-blocked.yaml')),
      items: 'all',
    });
    expect(imported.left).toContainEqual({ id: 'install:prod', reason: expect.stringContaining('blocked: its hosts core-1') });
    expect(imported.applied).toContain('host:agent-1');
    expect((await site.api.call('installs.list', {})).map((i) => i.name)).toEqual([]);
  });

  it('names file:line:column for a hand-edited error and refuses a newer format; the store is unchanged', async () => {
    const site = await startSite('yaml-errors');
    const before = tableCounts(site);
    const text = fs.readFileSync(out('first.yaml'), 'utf8');
    const edited = text.replace('port: 2222', 'port: twenty-two');
    expect(edited).not.toBe(text);
    fs.writeFileSync(out('edited.yaml'), edited);
    const line = edited.split('\n').findIndex((l) => l.includes('port: twenty-two')) + 1;
    const error = await site.api
      .call('configBundles.import', { path: out('edited.yaml'), sha256: sha(out('edited.yaml')), items: 'all' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_EXPORT_INVALID' });
    expect((error as Error).message).toMatch(new RegExp(`edited\\.yaml:${line}:\\d+: hosts\\.\\d+\\.port: `));

    fs.writeFileSync(out('newer.yaml'), text.replace('sutazai_config: 1', 'sutazai_config: 2'));
    expect(await codeOf(site.api.call('configBundles.review', { path: out('newer.yaml') }))).toBe('CONFIG_BUNDLE_FORMAT_NEWER');
    expect(tableCounts(site)).toEqual(before);
    expect(fs.existsSync(path.join(site.dir, 'alerts'))).toBe(false);
  });
});

describe('configuration bundle', () => {
  let bundlePath: string;
  let signer: string;

  beforeAll(async () => {
    bundlePath = out('site.sutazai-config');
    const result = await origin.api.call('configBundles.export', {
      path: bundlePath,
      format: 'bundle',
      secretsPassphrase: EXPORT_PASSPHRASE,
    });
    expect(result).toMatchObject({ format: 'bundle', hosts: 5, installs: 1, secrets: 2 });
    signer = result.signedBy!;
    expect((await origin.api.call('configBundles.keys', {})).own?.fingerprint).toBe(signer);
  }, 60_000);

  it('carries secrets only sealed, and without --with-secrets none at all', async () => {
    const bytes = fs.readFileSync(bundlePath);
    for (const secret of [DB_PASSWORD, SUDO_PASSWORD]) expect(bytes.includes(Buffer.from(secret))).toBe(false);
    const plain = out('no-secrets.sutazai-config');
    expect((await origin.api.call('configBundles.export', { path: plain, format: 'bundle' })).secrets).toBe(0);
    const file = await readConfigFile(plain);
    expect(file.kind === 'bundle' && file.secretsText).toBeNull();
  });

  it('is refused from an untrusted exporter and with a wrong passphrase, then imported whole once trusted; again changes nothing', async () => {
    const site = await startSite('bundle-fresh');
    seedStandInBundle(site.db);
    const before = tableCounts(site);

    const review = await site.api.call('configBundles.review', { path: bundlePath });
    expect(review.exporter).toMatchObject({ fingerprint: signer, trusted: false, own: false });
    expect(review.hasSecrets).toBe(true);
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: bundlePath,
          sha256: sha(bundlePath),
          items: 'all',
          secretsPassphrase: EXPORT_PASSPHRASE,
        }),
      ),
    ).toBe('CONFIG_BUNDLE_EXPORTER_UNKNOWN');
    expect(
      await codeOf(
        site.api.call('configBundles.import', { path: bundlePath, sha256: sha(bundlePath), items: 'all', trustExporter: signer }),
      ),
    ).toBe('CONFIG_BUNDLE_PASSPHRASE_NEEDED');
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: bundlePath,
          sha256: sha(bundlePath),
          items: 'all',
          trustExporter: signer,
          secretsPassphrase: 'not the export passphrase',
        }),
      ),
    ).toBe('CONFIG_BUNDLE_PASSPHRASE_WRONG');
    expect(tableCounts(site)).toEqual(before);

    const imported = await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: 'all',
      trustExporter: signer,
      secretsPassphrase: EXPORT_PASSPHRASE,
    });
    expect(imported.exporterTrusted).toBe(true);
    expect(await hostNames(site)).toEqual(['agent-1', 'bastion', 'core-1', 'db-1', 'local', 'web-1']);
    expect(revealHostSecret(site.dir, VAULT, 'db-1', 'password:db-1')).toBe(DB_PASSWORD);

    // Equal content: the new store exports the same configuration document (signed by its own key).
    const again = out('again.sutazai-config');
    const reexport = await site.api.call('configBundles.export', { path: again, format: 'bundle' });
    expect(reexport.signedBy).not.toBe(signer);
    const [a, b] = [await readConfigFile(bundlePath), await readConfigFile(again)];
    expect(b.configText).toBe(a.configText);

    const counts = tableCounts(site);
    const second = await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: 'all',
      secretsPassphrase: EXPORT_PASSPHRASE,
    });
    expect(second.applied).toEqual([]);
    expect(second.left.every((l) => l.reason === 'unchanged')).toBe(true);
    expect(tableCounts(site)).toEqual(counts);

    const audit = await site.api.call('audit.list', { limit: 20 });
    const actions = audit.entries.map((e) => `${e.method} ${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining(['configBundles.import CONFIG_BUNDLE_EXPORTER_UNKNOWN', 'configBundles.import ok', 'configBundles.export ok']),
    );
  });

  it('refuses a flipped byte and a truncated copy without changing the store', async () => {
    const site = await startSite('bundle-damaged');
    const before = tableCounts(site);
    const bytes = fs.readFileSync(bundlePath);
    const file = await readConfigFile(bundlePath);
    const at = bytes.indexOf(Buffer.from('198.18.40.2'));
    expect(file.kind).toBe('bundle');
    expect(at).toBeGreaterThan(0);
    const flipped = Buffer.from(bytes);
    flipped[at + 4] = flipped[at + 4]! ^ 0x01;
    fs.writeFileSync(out('flipped.sutazai-config'), flipped);
    fs.writeFileSync(out('truncated.sutazai-config'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    for (const name of ['flipped.sutazai-config', 'truncated.sutazai-config']) {
      expect(
        await codeOf(
          site.api.call('configBundles.import', {
            path: out(name),
            sha256: sha(out(name)),
            items: 'all',
            trustExporter: signer,
            withoutSecrets: true,
          }),
        ),
      ).toBe('CONFIG_BUNDLE_DAMAGED');
    }
    expect(tableCounts(site)).toEqual(before);
  });

  it('flags a host key that differs from the pinned one, never applies it with "all", and applies exactly the chosen items', async () => {
    const site = await startSite('bundle-conflict');
    seedStandInBundle(site.db);
    await site.api.call('hosts.add', { name: 'bastion', address: '198.18.40.1', user: 'ops', auth: { method: 'agent' } });
    await site.api.call('hosts.add', { name: 'db-1', address: '198.18.40.2', port: 2222, user: 'sutazai', auth: { method: 'agent' } });
    const db1 = site.db.prepare("SELECT id FROM hosts WHERE name = 'db-1'").get() as { id: number };
    createHostKeysRepo(site.db).pin(db1.id, KEY_B, 5, 'test');

    const review = await site.api.call('configBundles.review', { path: bundlePath });
    const key = review.items.find((i) => i.id === 'host-key:db-1')!;
    expect(key.status).toBe('conflict');
    expect(key.reason).toContain('HOST KEY DIFFERS');
    expect(key.changes).toEqual([{ field: 'fingerprint', from: KEY_B.fingerprint, to: KEY_A.fingerprint }]);

    // A selection: one host, nothing else.
    const chosen = await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: ['host:web-1'],
      trustExporter: signer,
      withoutSecrets: true,
    });
    expect(chosen.applied).toEqual(['host:web-1']);
    expect(await hostNames(site)).toEqual(['bastion', 'db-1', 'local', 'web-1']);

    const all = await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: 'all',
      withoutSecrets: true,
    });
    expect(all.left).toContainEqual({ id: 'host-key:db-1', reason: expect.stringContaining('conflict, not chosen') });
    expect(pinnedFingerprint(site, 'db-1')).toBe(KEY_B.fingerprint);

    // Chosen by itself, on purpose: then it is pinned.
    await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: ['host-key:db-1'],
      withoutSecrets: true,
    });
    expect(pinnedFingerprint(site, 'db-1')).toBe(KEY_A.fingerprint);
  });

  it('leaves a rule file whose place here is a folder: blocked in the review, never the cause of a failed import that was applied', async () => {
    const site = await startSite('bundle-site-file-place');
    fs.mkdirSync(path.join(site.dir, 'alerts', 'disk.yaml'), { recursive: true });
    fs.writeFileSync(path.join(site.dir, 'alerts', 'disk.yaml', 'mine.txt'), 'kept');

    const review = await site.api.call('configBundles.review', { path: bundlePath });
    const rule = review.items.find((i) => i.id === 'site-file:alerts/disk.yaml')!;
    expect(rule.status).toBe('blocked');
    expect(rule.reason).toContain('a folder');

    const before = tableCounts(site);
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: bundlePath,
          sha256: sha(bundlePath),
          items: ['host:web-1', 'site-file:alerts/disk.yaml'],
          trustExporter: signer,
          withoutSecrets: true,
        }),
      ),
    ).toBe('CONFIG_IMPORT_BLOCKED');
    expect(tableCounts(site)).toEqual(before);

    const all = await site.api.call('configBundles.import', {
      path: bundlePath,
      sha256: sha(bundlePath),
      items: 'all',
      trustExporter: signer,
      withoutSecrets: true,
    });
    expect(all.applied).toContain('host:web-1');
    expect(all.applied).not.toContain('site-file:alerts/disk.yaml');
    expect(all.left).toContainEqual({
      id: 'site-file:alerts/disk.yaml',
      reason: expect.stringContaining('blocked: alerts/disk.yaml here is a folder'),
    });
    expect(fs.readdirSync(path.join(site.dir, 'alerts')).sort()).toEqual(['disk.yaml']);
    expect(fs.readFileSync(path.join(site.dir, 'alerts', 'disk.yaml', 'mine.txt'), 'utf8')).toBe('kept');
  });

  it('refuses an install that runs a newer release here, with the store unchanged', async () => {
    const site = await startSite('bundle-newer-release');
    const bundleId = seedStandInBundle(site.db);
    recordInstall(site.db, bundleId, {
      name: 'prod',
      hosts: [{ name: 'core-1', address: '198.18.40.4', role: 'core', state: 'installed' }],
    });
    site.db.prepare('UPDATE installs SET ca_cert = ? WHERE name = ?').run('PEM', 'prod');
    const ids = site.db
      .prepare("SELECT i.id AS installId, h.id AS hostId FROM installs i, hosts h WHERE i.name = 'prod' AND h.name = 'core-1'")
      .get() as {
      installId: number;
      hostId: number;
    };
    createHostReleasesRepo(site.db).markCurrent({
      ...ids,
      version: '0.2.0',
      bundleSha256: 'b'.repeat(64),
      path: '/opt/sutazai/releases/0.2.0',
      installedAt: 9,
    });
    const before = tableCounts(site);

    const review = await site.api.call('configBundles.review', { path: bundlePath });
    const install = review.items.find((i) => i.id === 'install:prod')!;
    expect(install.status).toBe('conflict');
    expect(install.reason).toContain('0.2.0');
    expect(
      await codeOf(
        site.api.call('configBundles.import', {
          path: bundlePath,
          sha256: sha(bundlePath),
          items: ['site-file:alerts/disk.yaml', 'install:prod'],
          trustExporter: signer,
          withoutSecrets: true,
        }),
      ),
    ).toBe('CONFIG_IMPORT_NEWER_RELEASE');
    expect(tableCounts(site)).toEqual(before);
    // The rule file chosen with it was written beside its place and dropped with the transaction.
    expect(fs.readdirSync(path.join(site.dir, 'alerts'), { withFileTypes: true }).length).toBe(0);
  });
});
